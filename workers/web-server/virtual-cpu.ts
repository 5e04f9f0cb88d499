/**
 * The virtual CPU of one server: `vcpus` slots that a request holds for its CPU time without
 * burning host CPU. Start and end times follow the FIFO multi-server queue recursion
 * (start = max(arrival, earliest free slot), end = start + service), which is exact for an
 * M/G/c queue served first come, first served. A timer heap delivers work at its end time.
 */
export class VirtualCpu {
  /** Called after timers have run, so the owner can publish fresh statistics. */
  onIdleTick: (() => void) | undefined;

  private readonly freeAt: Float64Array;
  private scheduledBusyMs = 0;
  private readonly timers = new TimerHeap();
  private timer: NodeJS.Timeout | undefined;
  private timerDueMs = Infinity;

  constructor(readonly vcpus: number) {
    this.freeAt = new Float64Array(vcpus);
  }

  /**
   * Reserves the earliest free vCPU for `serviceMs` from `arrivalMs` on and returns the end time,
   * or returns -1 without reserving anything when the vCPU would only be free at `deadlineMs` or later.
   */
  schedule(arrivalMs: number, serviceMs: number, deadlineMs = Infinity): number {
    let slot = 0;
    for (let i = 1; i < this.freeAt.length; i++) if (this.freeAt[i] < this.freeAt[slot]) slot = i;
    const startMs = Math.max(arrivalMs, this.freeAt[slot]);
    if (startMs >= deadlineMs) return -1;
    const endMs = startMs + serviceMs;
    this.freeAt[slot] = endMs;
    this.scheduledBusyMs += serviceMs;
    return endMs;
  }

  /** Runs `callback` at wall time `atMs` (epoch milliseconds), or now if that time has passed. */
  at(atMs: number, callback: () => void): void {
    if (atMs <= performance.timeOrigin + performance.now()) {
      callback();
      return;
    }
    this.timers.push(atMs, callback);
    if (atMs < this.timerDueMs) this.arm(atMs);
  }

  /**
   * Returns the vCPU-busy milliseconds up to `nowMs`. Work is scheduled no earlier than its
   * arrival, which is not in the future, so each slot's work after `nowMs` is one contiguous run.
   */
  busyMsUntil(nowMs: number): number {
    let future = 0;
    for (let i = 0; i < this.freeAt.length; i++) if (this.freeAt[i] > nowMs) future += this.freeAt[i] - nowMs;
    return this.scheduledBusyMs - future;
  }

  busyVcpusAt(nowMs: number): number {
    let busy = 0;
    for (let i = 0; i < this.freeAt.length; i++) if (this.freeAt[i] > nowMs) busy++;
    return busy;
  }

  private arm(atMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerDueMs = atMs;
    const delay = Math.max(0, atMs - (performance.timeOrigin + performance.now()));
    this.timer = setTimeout(() => this.fire(), delay);
  }

  private fire(): void {
    this.timer = undefined;
    this.timerDueMs = Infinity;
    // Timers fire up to a millisecond late; anything due within the next 0.2 ms runs now too.
    const now = performance.timeOrigin + performance.now() + 0.2;
    while (this.timers.size > 0 && this.timers.peekTime() <= now) this.timers.pop()();
    if (this.timers.size > 0) this.arm(this.timers.peekTime());
    this.onIdleTick?.();
  }
}

/** A binary min-heap of callbacks keyed by time. */
class TimerHeap {
  private times: number[] = [];
  private callbacks: Array<() => void> = [];

  get size(): number {
    return this.times.length;
  }

  peekTime(): number {
    return this.times[0];
  }

  push(time: number, callback: () => void): void {
    const times = this.times;
    const callbacks = this.callbacks;
    let i = times.length;
    times.push(time);
    callbacks.push(callback);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent] <= time) break;
      times[i] = times[parent];
      callbacks[i] = callbacks[parent];
      i = parent;
    }
    times[i] = time;
    callbacks[i] = callback;
  }

  pop(): () => void {
    const times = this.times;
    const callbacks = this.callbacks;
    const top = callbacks[0];
    const lastTime = times.pop()!;
    const lastCallback = callbacks.pop()!;
    const size = times.length;
    if (size === 0) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && times[child + 1] < times[child]) child++;
      if (times[child] >= lastTime) break;
      times[i] = times[child];
      callbacks[i] = callbacks[child];
      i = child;
    }
    times[i] = lastTime;
    callbacks[i] = lastCallback;
    return top;
  }
}
