import type { Random } from '../random.ts';
import type { LoadGenerator } from './load-generator.ts';
import { ConstantThinking, ExponentialThinking, type ThinkingUsers } from './thinking-users.ts';

const ABSENT = 0;
const THINKING = 1;
const WAITING = 2;

/**
 * Closed-model load: a fixed number of users, each of whom sends one request, waits for its
 * response (ok or error), thinks, and sends the next. The load therefore falls when the system
 * stalls, which hides the stall: only the few users caught waiting see it. Latency is measured
 * from the moment a user finished thinking. User ids are the client ids, 0 to users - 1.
 *
 * Memory is one byte of state per user plus the thinking set's typed arrays, so a million users
 * cost a few megabytes and no timers.
 */
export class ClosedLoad implements LoadGenerator {
  readonly model = 'closed';
  private activeUsers = 0;
  /** ABSENT, THINKING or WAITING per user id; never shrinks, so a removed user still waiting stays known. */
  private userState: Uint8Array;
  private readonly thinking: ThinkingUsers;

  constructor(
    users: number,
    private readonly thinkMs: number,
    distribution: 'exponential' | 'constant',
    random: Random,
    startMs: number,
  ) {
    this.userState = new Uint8Array(users);
    // An exponential think time of mean 0 has no rate; it is the constant think time 0.
    this.thinking =
      distribution === 'exponential' && thinkMs > 0 ? new ExponentialThinking(thinkMs, random, users) : new ConstantThinking(thinkMs, random, users);
    this.setUsers(users, startMs);
  }

  get users(): number {
    return this.activeUsers;
  }

  /** The rate at which thinking users send now (thinking users / mean think time), or 0 for a think time of 0. */
  get rateRps(): number {
    return this.thinkMs > 0 ? (this.thinking.count * 1000) / this.thinkMs : 0;
  }

  setRate(): void {
    throw new RangeError('rateRps: this run uses the closed load model, whose rate follows from its users; use set-users to change them');
  }

  /**
   * Sets the number of users from `nowMs` on. Joining users start by thinking; users whose id is
   * now out of range stop at once if thinking, or after their response if waiting for one.
   */
  setUsers(users: number, nowMs: number): void {
    if (users > this.userState.length) {
      const grown = new Uint8Array(users);
      grown.set(this.userState);
      this.userState = grown;
    }
    if (users < this.activeUsers) {
      this.thinking.removeFrom(users, nowMs);
      for (let user = users; user < this.activeUsers; user++) if (this.userState[user] === THINKING) this.userState[user] = ABSENT;
    }
    if (users > this.activeUsers) {
      // A user still waiting from before a reduction keeps waiting and thinks after its response.
      let joiningCount = 0;
      for (let user = this.activeUsers; user < users; user++) if (this.userState[user] === ABSENT) joiningCount++;
      const joining = new Int32Array(joiningCount);
      let j = 0;
      for (let user = this.activeUsers; user < users; user++) {
        if (this.userState[user] !== ABSENT) continue;
        this.userState[user] = THINKING;
        joining[j++] = user;
      }
      this.thinking.join(joining, nowMs);
    }
    this.activeUsers = users;
  }

  /**
   * Calls `emit` for every user who finished thinking by `nowMs`, in time order. Users who start
   * thinking during this call (a think time of 0 with requests that fail at once) wait for the
   * next call, so the loop always ends.
   */
  pull(nowMs: number, emit: (dueMs: number, clientId: number) => void): void {
    const limit = this.thinking.count;
    for (let n = 0; n < limit && this.thinking.peekDueMs() <= nowMs; n++) {
      const dueMs = this.thinking.peekDueMs();
      const user = this.thinking.take();
      this.userState[user] = WAITING;
      emit(dueMs, user);
    }
  }

  /** Starts the think time of `clientId`'s user, or lets the user go if it was removed meanwhile. */
  onRequestEnd(clientId: number, nowMs: number): void {
    if (clientId >= this.userState.length || this.userState[clientId] !== WAITING) return;
    if (clientId >= this.activeUsers) {
      this.userState[clientId] = ABSENT;
      return;
    }
    this.userState[clientId] = THINKING;
    this.thinking.add(clientId, nowMs);
  }

  peekDueMs(): number {
    return this.thinking.peekDueMs();
  }
}
