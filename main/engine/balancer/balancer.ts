import type { Algorithm } from '../api/commands.ts';
import type { WebServer } from '../servers/web-server.ts';

/**
 * The load balancer, in process with the servers it routes to. It picks among the backends in
 * rotation; it does not know whether a backend's process is alive, so without health checks a
 * crashed server keeps receiving its share and each such request fails as "server down".
 */
export class LoadBalancer {
  private backends: WebServer[] = [];
  private cursor = 0;
  picks = 0;

  constructor(public algorithm: Algorithm) {}

  setBackends(servers: WebServer[]): void {
    this.backends = servers;
  }

  /** Returns the backend for the next request, or null when no backend is in rotation. */
  pick(): WebServer | null {
    const backends = this.backends;
    const n = backends.length;
    if (n === 0) return null;
    this.picks++;
    return this.algorithm === 'least-connections' ? this.leastConnections(backends, n) : this.roundRobin(backends, n);
  }

  private roundRobin(backends: WebServer[], n: number): WebServer | null {
    for (let tried = 0; tried < n; tried++) {
      const server = backends[this.cursor];
      this.cursor = (this.cursor + 1) % n;
      if (server.inRotation) return server;
    }
    return null;
  }

  /** Fewest requests in flight; ties go round robin, so equal servers share the load evenly. */
  private leastConnections(backends: WebServer[], n: number): WebServer | null {
    let best: WebServer | null = null;
    const start = this.cursor;
    for (let k = 0; k < n; k++) {
      const server = backends[(start + k) % n];
      if (!server.inRotation) continue;
      if (best === null || server.inFlight < best.inFlight) best = server;
    }
    this.cursor = (start + 1) % n;
    return best;
  }
}
