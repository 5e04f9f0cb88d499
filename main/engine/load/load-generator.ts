import type { Scenario } from '../api/scenario.ts';
import type { Random } from '../random.ts';
import { OpenLoad } from './open-load.ts';

/** Where requests come from: the engine pulls due arrivals each step and reports each request's end. */
export interface LoadGenerator {
  readonly model: 'open' | 'closed';
  /** The offered rate the generator aims at now, in requests per second. */
  readonly rateRps: number;
  /** Calls `emit` for every arrival due up to `nowMs`, in due order, with the client that sends it. */
  pull(nowMs: number, emit: (dueMs: number, clientId: number) => void): void;
  /** Returns the due time of the next arrival, or Infinity when none is scheduled. */
  peekDueMs(): number;
  /** Tells the generator that a request of `clientId` ended, ok or not. */
  onRequestEnd(clientId: number, nowMs: number): void;
  setRate(rateRps: number, nowMs: number): void;
}

export function createLoadGenerator(load: Scenario['load'], random: Random, startMs: number): LoadGenerator {
  return new OpenLoad(load.rateRps, load.arrival, load.clients, random, startMs);
}
