import { describe, expect, it } from 'vitest';
import { ALGORITHMS } from '../../main/engine/api/balancer-config.ts';
import { createPicker } from '../../main/engine/balancer/algorithms.ts';
import { Backend } from '../../main/engine/balancer/backend.ts';
import { Random } from '../../main/engine/random.ts';
import type { WebServer } from '../../main/engine/servers/web-server.ts';

// The pickers read only a server's id, vCPUs, requests in flight and rotation flag, so plain
// records with those fields stand in for servers here; the engine tests drive real ones.
function backends(count: number, vcpus: (id: number) => number = () => 1): Backend[] {
  return Array.from({ length: count }, (_, i) => {
    const server = { id: i + 1, vcpus: vcpus(i + 1), inFlight: 0, inRotation: true } as unknown as WebServer;
    return new Backend(server, 0);
  });
}

function pickCounts(algorithm: (typeof ALGORITHMS)[number], list: Backend[], picks: number, clientOf = (i: number) => i): Map<number, number> {
  const picker = createPicker(algorithm, new Random(7), () => 0);
  picker.reset(list);
  const counts = new Map<number, number>();
  for (let i = 0; i < picks; i++) {
    const backend = picker.pick(list, clientOf(i), 1000)!;
    counts.set(backend.id, (counts.get(backend.id) ?? 0) + 1);
  }
  return counts;
}

describe('balancer algorithms', () => {
  it('round robin takes each server in turn', () => {
    const counts = pickCounts('round-robin', backends(4), 400);
    expect([...counts.values()]).toEqual([100, 100, 100, 100]);
  });

  it('weighted round robin follows the weights', () => {
    const list = backends(3, (id) => id); // weights 1, 2, 3
    const counts = pickCounts('weighted-round-robin', list, 600);
    expect(counts.get(1)).toBe(100);
    expect(counts.get(2)).toBe(200);
    expect(counts.get(3)).toBe(300);
  });

  it('least connections picks the least loaded server', () => {
    const list = backends(3);
    (list[0].server as { inFlight: number }).inFlight = 5;
    (list[1].server as { inFlight: number }).inFlight = 1;
    (list[2].server as { inFlight: number }).inFlight = 3;
    const counts = pickCounts('least-connections', list, 10);
    expect(counts.get(2)).toBe(10);
  });

  it('least connections avoids a fast-failing server', () => {
    const list = backends(2);
    (list[1].server as { inFlight: number }).inFlight = 1;
    // Server 1 has nothing in flight because it refuses every request at once.
    for (let i = 0; i < 5; i++) list[0].recordFailure(1000);
    const counts = pickCounts('least-connections', list, 10);
    expect(counts.get(1) ?? 0).toBe(0);
  });

  it('power of two choices never picks the busiest of two', () => {
    const list = backends(2);
    (list[0].server as { inFlight: number }).inFlight = 10;
    const counts = pickCounts('power-of-two', list, 100);
    expect(counts.get(2)).toBe(100);
  });

  it('power of two choices spreads equal servers', () => {
    const counts = pickCounts('power-of-two', backends(4), 4000);
    for (const count of counts.values()) expect(count).toBeGreaterThan(700);
  });

  it('consistent hashing keeps a client on one server', () => {
    const list = backends(4);
    const picker = createPicker('consistent-hash', new Random(1), () => 0);
    picker.reset(list);
    for (let client = 0; client < 50; client++) {
      const first = picker.pick(list, client, 0)!.id;
      for (let again = 0; again < 5; again++) expect(picker.pick(list, client, 0)!.id).toBe(first);
    }
  });

  it('consistent hashing moves only the clients of a lost server', () => {
    const list = backends(4);
    const picker = createPicker('consistent-hash', new Random(1), () => 0);
    picker.reset(list);
    const before = Array.from({ length: 2000 }, (_, client) => picker.pick(list, client, 0)!.id);
    (list[2].server as { inRotation: boolean }).inRotation = false;
    const after = Array.from({ length: 2000 }, (_, client) => picker.pick(list, client, 0)!.id);
    let moved = 0;
    for (let client = 0; client < 2000; client++) {
      if (before[client] === 3) expect(after[client]).not.toBe(3);
      else expect(after[client]).toBe(before[client]);
      if (before[client] !== after[client]) moved++;
    }
    expect(moved).toBeGreaterThan(300);
    expect(moved).toBeLessThan(700);
  });

  it('every algorithm skips servers out of rotation', () => {
    for (const algorithm of ALGORITHMS) {
      const list = backends(3);
      (list[0].server as { inRotation: boolean }).inRotation = false;
      list[1].healthy = false;
      const counts = pickCounts(algorithm, list, 30);
      expect(counts.get(3)).toBe(30);
    }
  });

  it('every algorithm returns null with no server available', () => {
    for (const algorithm of ALGORITHMS) {
      const list = backends(2);
      for (const backend of list) backend.ejectedUntilMs = 10_000;
      const picker = createPicker(algorithm, new Random(1), () => 0);
      picker.reset(list);
      expect(picker.pick(list, 1, 1000)).toBeNull();
    }
  });

  it('slow start grows a returning server share', () => {
    const [backend] = backends(1);
    backend.joinedAtMs = 0;
    expect(backend.slowStartFactor(0, 10_000)).toBeCloseTo(0.1);
    expect(backend.slowStartFactor(5000, 10_000)).toBeCloseTo(0.55);
    expect(backend.slowStartFactor(10_000, 10_000)).toBe(1);
  });
});
