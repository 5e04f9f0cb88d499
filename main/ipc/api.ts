import type { CommandInput, RunStatus, ScenarioInput, ServerPush } from '../engine/api/protocol.ts';
import type { StopResult } from '../host/client-requests.ts';
import type { PresetList } from '../host/presets.ts';
import type { SavedReport } from '../host/report-store.ts';

/** The one IPC channel the preload invokes; its payload is a ClientRequest. */
export const REQUEST_CHANNEL = 'scalelab:request';
/** The channel on which the main process sends ServerPush messages to the window. */
export const PUSH_CHANNEL = 'scalelab:push';

/** Input of a start request: a preset's file name or a whole scenario. */
export type StartInput = { preset: string } | { scenario: ScenarioInput };

/**
 * The API the renderer talks to. In Electron the preload exposes it as window.scalelab; in a
 * browser a WebSocket client implements it. Every call is validated again by the host.
 */
export interface ScaleLabApi {
  listPresets(): Promise<PresetList>;
  start(input: StartInput): Promise<void>;
  command(command: CommandInput): Promise<void>;
  stop(): Promise<StopResult>;
  status(): Promise<RunStatus>;
  /**
   * Writes the last finished run's report as JSON into the host's reports folder. Rejects when no
   * run has finished, when `fileName` is not a plain file name, or when the file exists and
   * `overwrite` is not true.
   */
  saveReport(fileName: string, options?: { overwrite?: boolean }): Promise<SavedReport>;
  /** Subscribes to status, tick, event and finished pushes; returns the unsubscribe function. */
  onPush(listener: (push: ServerPush) => void): () => void;
}
