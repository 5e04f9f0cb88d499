import type { CommandInput, RunReport, RunStatus, ScenarioInput, ServerPush } from '../engine/api/protocol.ts';

/**
 * The engine as a host sees it: commands in, ticks and events out. The engine itself runs in a
 * worker thread; every host (command line, web host, Electron main) talks to it through this.
 */
export interface EngineClient {
  /** Validates and starts a scenario; rejects with a ValidationError naming the field if it is invalid. */
  start(scenario: ScenarioInput): Promise<void>;
  /** Applies a live change or a fault to the running system. */
  command(command: CommandInput): Promise<void>;
  /** Stops the run, drains requests in flight, and resolves with its report (null if nothing ran). */
  stop(): Promise<RunReport | null>;
  status(): Promise<RunStatus>;
  /** Subscribes to ticks, events, status changes and the final report; returns the unsubscribe function. */
  subscribe(listener: (message: ServerPush) => void): () => void;
  /** Stops any run and ends the engine thread. */
  close(): Promise<void>;
}
