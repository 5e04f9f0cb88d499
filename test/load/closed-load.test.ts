import { describe, expect, it } from 'vitest';
import { ClosedLoad } from '../../main/engine/load/closed-load.ts';
import type { LoadGenerator } from '../../main/engine/load/load-generator.ts';
import { Random } from '../../main/engine/random.ts';

/**
 * Drives a closed load in 1 ms steps; every request gets its response `latencyMs` after it was due.
 * Returns the due times sent and the most requests any user ever had outstanding.
 */
function drive(load: ClosedLoad, fromMs: number, untilMs: number, latencyMs: number) {
  const sent: number[] = [];
  const pending: Array<{ endMs: number; user: number }> = [];
  const outstanding = new Map<number, number>();
  let maxOutstanding = 0;
  for (let now = fromMs; now < untilMs; now++) {
    while (pending.length > 0 && pending[0].endMs <= now) {
      const { user } = pending.shift()!;
      outstanding.set(user, outstanding.get(user)! - 1);
      load.onRequestEnd(user, now);
    }
    load.pull(now, (dueMs, user) => {
      sent.push(dueMs);
      const count = (outstanding.get(user) ?? 0) + 1;
      outstanding.set(user, count);
      maxOutstanding = Math.max(maxOutstanding, count);
      pending.push({ endMs: Math.max(now, dueMs + latencyMs), user });
    });
  }
  return { sent, maxOutstanding };
}

describe('closed load', () => {
  it('exponential think time offers users / think', () => {
    const load = new ClosedLoad(1000, 100, 'exponential', new Random(3), 0);
    const { sent, maxOutstanding } = drive(load, 0, 20_000, 0);
    // 1,000 users thinking 100 ms with instant responses send 10,000 requests/s.
    expect(sent.length / 20).toBeGreaterThan(10_000 * 0.97);
    expect(sent.length / 20).toBeLessThan(10_000 * 1.03);
    expect(maxOutstanding).toBe(1);
  });

  it('constant think time offers users / (think + latency)', () => {
    const load = new ClosedLoad(500, 90, 'constant', new Random(3), 0);
    const { sent, maxOutstanding } = drive(load, 0, 10_000, 10);
    // Each user sends once per 90 ms of thinking plus 10 ms of waiting: 5,000 requests/s.
    expect(sent.length / 10).toBeGreaterThan(5000 * 0.98);
    expect(sent.length / 10).toBeLessThan(5000 * 1.02);
    expect(maxOutstanding).toBe(1);
  });

  it('stops sending while responses stall', () => {
    const load = new ClosedLoad(100, 10, 'exponential', new Random(5), 0);
    const { sent } = drive(load, 0, 5000, 1_000_000);
    // Each user sends once and then waits for a response that never comes.
    expect(sent.length).toBe(100);
  });

  it('think time zero resends each step without looping', () => {
    const load = new ClosedLoad(10, 0, 'exponential', new Random(5), 0);
    let calls = 0;
    for (let now = 0; now < 100; now++) {
      load.pull(now, (dueMs, user) => {
        calls++;
        // A response that arrives at once, as a refused connection's error would.
        load.onRequestEnd(user, now);
      });
    }
    expect(calls).toBe(1000);
  });

  it('set-users adds and removes users', () => {
    const load = new ClosedLoad(100, 100, 'constant', new Random(8), 0);
    // Answers arrive at the next 1 ms step, so a cycle lasts a little over the 100 ms think time.
    const first = drive(load, 0, 2000, 0);
    expect(first.sent.length / 2).toBeGreaterThan(970);
    expect(first.sent.length / 2).toBeLessThan(1010);

    load.setUsers(400, 2000);
    expect(load.users).toBe(400);
    const more = drive(load, 2000, 4000, 0);
    expect(more.sent.length / 2).toBeGreaterThan(3880);
    expect(more.sent.length / 2).toBeLessThan(4040);

    load.setUsers(50, 4000);
    const fewer = drive(load, 4000, 6000, 0);
    expect(fewer.sent.length / 2).toBeGreaterThan(485);
    expect(fewer.sent.length / 2).toBeLessThan(510);
  });

  it('removed waiting user leaves after response', () => {
    const load = new ClosedLoad(2, 10, 'constant', new Random(1), 0);
    const sent: number[] = [];
    for (let now = 0; now <= 10; now++) load.pull(now, (dueMs, user) => sent.push(user));
    expect(sent.sort()).toEqual([0, 1]);
    load.setUsers(1, 11);
    load.onRequestEnd(1, 12);
    load.onRequestEnd(0, 12);
    const later: number[] = [];
    for (let now = 12; now < 200; now++) {
      load.pull(now, (dueMs, user) => {
        later.push(user);
        load.onRequestEnd(user, now);
      });
    }
    expect(new Set(later)).toEqual(new Set([0]));
  });

  it('open-model commands are rejected', () => {
    const load = new ClosedLoad(2, 10, 'constant', new Random(1), 0);
    const generator: LoadGenerator = load;
    expect(() => generator.setRate(100, 0)).toThrow(RangeError);
  });

  it('a million users cost no object each', () => {
    const before = process.memoryUsage();
    const load = new ClosedLoad(1_000_000, 100_000, 'exponential', new Random(1), 0);
    const after = process.memoryUsage();
    expect(load.users).toBe(1_000_000);
    // One byte of state and one 4-byte id per user in typed arrays outside the JS heap, plus the
    // 4-byte list of joining users until it is collected: 9 MB, against some 100 MB for an object each.
    expect(after.heapUsed - before.heapUsed).toBeLessThan(2 * 1024 * 1024);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThanOrEqual(9_000_000);
  });
});
