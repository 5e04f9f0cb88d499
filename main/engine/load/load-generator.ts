import type { LoadModel, Scenario } from '../api/scenario.ts';
import type { Random } from '../random.ts';
import { ClosedLoad } from './closed-load.ts';
import { OpenLoad } from './open-load.ts';

/** A source of requests: the engine pulls due arrivals each step and reports each request's end. */
export interface LoadGenerator {
  readonly model: LoadModel;
  /**
   * The offered rate the generator aims at now, in requests per second. In the closed model this
   * is the rate at which the users thinking now send (thinking users / mean think time).
   */
  readonly rateRps: number;
  /** Concurrent users of the closed model; null in the open model. */
  readonly users: number | null;
  /** Calls `emit` for every arrival due up to `nowMs`, in due order, with the client that sends it. */
  pull(nowMs: number, emit: (dueMs: number, clientId: number) => void): void;
  /** Returns the due time of the next arrival, or Infinity when none is scheduled. */
  peekDueMs(): number;
  /** Tells the generator that a request of `clientId` ended, ok or not. */
  onRequestEnd(clientId: number, nowMs: number): void;
  /** Sets the open model's rate; throws a RangeError in the closed model. */
  setRate(rateRps: number, nowMs: number): void;
  /** Sets the closed model's users; throws a RangeError in the open model. */
  setUsers(users: number, nowMs: number): void;
}

export function createLoadGenerator(load: Scenario['load'], random: Random, startMs: number): LoadGenerator {
  if (load.model === 'closed') {
    // The schema requires both fields for the closed model.
    return new ClosedLoad(load.users!, load.thinkTime!, load.thinkDistribution, random, startMs);
  }
  const points = load.profile.map((point) => ({ atMs: startMs + point.at, rateRps: point.rateRps, transition: point.transition }));
  return new OpenLoad(load.rateRps, load.arrival, load.clients, random, startMs, points);
}

/**
 * Returns how many DNS clients the run needs. In the closed model each user is its own client,
 * and set-users may raise the users to the limit, so the resolver is sized for the limit. The OS
 * zero-fills a large typed array lazily, so untouched entries cost no resident memory.
 */
export function dnsClientCount(load: Scenario['load'], maxUsers: number): number {
  return load.model === 'closed' ? maxUsers : load.clients;
}
