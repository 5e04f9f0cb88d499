import type { DbNode } from './db-node.ts';

/**
 * Sends a heartbeat to every monitored node each interval and declares a node down after
 * `missedLimit` heartbeats in a row went unanswered, so detection takes between
 * missedLimit x interval and (missedLimit + 1) x interval after a node stops answering.
 */
export class NodeMonitor {
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private readonly missed = new Map<number, number>();

  constructor(
    private readonly intervalMs: number,
    private readonly missedLimit: number,
    private readonly onDown: (nodeId: number) => void,
  ) {}

  start(nodes: () => Array<{ id: number; handle: DbNode }>): void {
    this.timer = setInterval(() => this.beat(nodes()), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private beat(nodes: Array<{ id: number; handle: DbNode }>): void {
    const seen = new Set<number>();
    for (const { id, handle } of nodes) {
      seen.add(id);
      const missed = handle.heartbeatPending !== 0 ? (this.missed.get(id) ?? 0) + 1 : 0;
      this.missed.set(id, missed);
      if (missed >= this.missedLimit) {
        this.missed.delete(id);
        handle.heartbeatPending = 0;
        this.onDown(id);
        continue;
      }
      handle.heartbeat(++this.seq);
    }
    // A node that left the monitored set starts from zero when it returns.
    for (const id of this.missed.keys()) if (!seen.has(id)) this.missed.delete(id);
  }
}
