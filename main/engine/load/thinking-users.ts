import type { Random } from '../random.ts';

/**
 * The users of a closed-model run who are thinking, with the time the next of them finishes.
 * A million users cost a few typed arrays here, never a timer or an object per user.
 */
export interface ThinkingUsers {
  readonly count: number;
  /** Time the next user finishes thinking, or Infinity when no user is thinking. */
  peekDueMs(): number;
  /** Removes the user that finishes thinking next and returns its id. */
  take(): number;
  /** Adds `user`, whose request ended at `nowMs`, to the thinking users. */
  add(user: number, nowMs: number): void;
  /** Adds users who join the run at `nowMs`, with start times spread so they do not all send at once. */
  join(users: Int32Array, nowMs: number): void;
  /** Removes every thinking user whose id is `minUser` or more. */
  removeFrom(minUser: number, nowMs: number): void;
}

/**
 * Thinking users with exponential think times. Each thinks for an exponential time, so together
 * they form a Poisson process of rate (thinking users / mean think time), and the user who
 * finishes is a uniformly random one of them. Only the next finish time is kept; it is drawn
 * anew whenever the count changes, which memorylessness allows.
 */
export class ExponentialThinking implements ThinkingUsers {
  count = 0;
  private ids: Int32Array;
  private nextDueMs = Infinity;

  constructor(
    private readonly meanThinkMs: number,
    private readonly random: Random,
    capacity: number,
  ) {
    this.ids = new Int32Array(capacity);
  }

  peekDueMs(): number {
    return this.nextDueMs;
  }

  take(): number {
    const index = this.random.int(this.count);
    const user = this.ids[index];
    this.ids[index] = this.ids[--this.count];
    this.nextDueMs = this.count > 0 ? this.nextDueMs + this.random.exponential(this.meanThinkMs / this.count) : Infinity;
    return user;
  }

  add(user: number, nowMs: number): void {
    this.ensureCapacity(this.count + 1);
    this.ids[this.count++] = user;
    // A finish already due stays due: it happened before this user started to think.
    if (this.nextDueMs > nowMs) this.redraw(nowMs);
  }

  join(users: Int32Array, nowMs: number): void {
    this.ensureCapacity(this.count + users.length);
    this.ids.set(users, this.count);
    this.count += users.length;
    if (this.count > 0) this.redraw(nowMs);
  }

  removeFrom(minUser: number, nowMs: number): void {
    let kept = 0;
    for (let i = 0; i < this.count; i++) if (this.ids[i] < minUser) this.ids[kept++] = this.ids[i];
    this.count = kept;
    if (kept === 0) this.nextDueMs = Infinity;
    else this.redraw(nowMs);
  }

  private redraw(nowMs: number): void {
    this.nextDueMs = nowMs + this.random.exponential(this.meanThinkMs / this.count);
  }

  private ensureCapacity(needed: number): void {
    if (needed <= this.ids.length) return;
    const grown = new Int32Array(Math.max(needed, Math.ceil(this.ids.length * 1.5)));
    grown.set(this.ids.subarray(0, this.count));
    this.ids = grown;
  }
}

/**
 * Thinking users with a constant think time. Requests end in time order, so users finish
 * thinking in the order they started: a ring buffer of finish times and user ids is the queue.
 */
export class ConstantThinking implements ThinkingUsers {
  count = 0;
  private dueMs: Float64Array;
  private ids: Int32Array;
  private head = 0;

  constructor(
    private readonly thinkMs: number,
    private readonly random: Random,
    capacity: number,
  ) {
    this.dueMs = new Float64Array(capacity);
    this.ids = new Int32Array(capacity);
  }

  peekDueMs(): number {
    return this.count > 0 ? this.dueMs[this.head] : Infinity;
  }

  take(): number {
    const user = this.ids[this.head];
    this.head = this.head + 1 === this.ids.length ? 0 : this.head + 1;
    this.count--;
    return user;
  }

  add(user: number, nowMs: number): void {
    if (this.count === this.ids.length) this.rebuild(Math.max(16, Math.ceil(this.ids.length * 1.5)), new Float64Array(0), new Int32Array(0), Infinity);
    let tail = this.head + this.count;
    if (tail >= this.ids.length) tail -= this.ids.length;
    // `nowMs` never decreases between calls, so the ring stays sorted by finish time.
    this.dueMs[tail] = nowMs + this.thinkMs;
    this.ids[tail] = user;
    this.count++;
  }

  /**
   * Spreads the joining users' first finish times evenly over one think time, each at a random
   * point of its own slot, then merges them into the sorted ring.
   */
  join(users: Int32Array, nowMs: number): void {
    const joiningDueMs = new Float64Array(users.length);
    for (let j = 0; j < users.length; j++) joiningDueMs[j] = nowMs + ((j + this.random.next()) / users.length) * this.thinkMs;
    this.rebuild(Math.max(this.ids.length, this.count + users.length), joiningDueMs, users, Infinity);
  }

  removeFrom(minUser: number): void {
    this.rebuild(this.ids.length, new Float64Array(0), new Int32Array(0), minUser);
  }

  /**
   * Copies the ring into new arrays of `capacity`, merged with the extra users (sorted by finish
   * time), leaving out ring users whose id is `keepBelow` or more.
   */
  private rebuild(capacity: number, extraDueMs: Float64Array, extraIds: Int32Array, keepBelow: number): void {
    const dueMs = new Float64Array(capacity);
    const ids = new Int32Array(capacity);
    let size = 0;
    let e = 0;
    while (this.count > 0 || e < extraIds.length) {
      if (this.count === 0 || (e < extraIds.length && extraDueMs[e] < this.dueMs[this.head])) {
        dueMs[size] = extraDueMs[e];
        ids[size++] = extraIds[e++];
        continue;
      }
      const due = this.dueMs[this.head];
      const user = this.take();
      if (user >= keepBelow) continue;
      dueMs[size] = due;
      ids[size++] = user;
    }
    this.dueMs = dueMs;
    this.ids = ids;
    this.head = 0;
    this.count = size;
  }
}
