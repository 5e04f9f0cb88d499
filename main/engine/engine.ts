import { commandSchema } from './api/commands.ts';
import type { Command, RunReport, RunStatus, ScenarioInput, ServerPush } from './api/protocol.ts';
import { parseScenario } from './api/scenario.ts';
import { parseOrThrow } from './api/units.ts';
import { subsystemLogger } from './log.ts';
import { Run, type RunOptions } from './run.ts';

const log = subsystemLogger('engine');

export type EngineOptions = Omit<RunOptions, 'emit'>;

/**
 * The engine: at most one run at a time. Every input is validated here as well as in the hosts,
 * because the engine cannot know which host it runs under.
 */
export class Engine {
  private run: Run | null = null;

  constructor(
    private readonly options: EngineOptions,
    private readonly emit: (message: ServerPush) => void,
  ) {}

  async start(input: ScenarioInput): Promise<void> {
    const scenario = parseScenario(input);
    const state = this.run?.status().state;
    if (state === 'starting' || state === 'running' || state === 'stopping') {
      throw new Error(`A run is already ${state}; stop it before starting another`);
    }
    const run = new Run(scenario, { ...this.options, emit: this.emit });
    this.run = run;
    log.info({ scenario: scenario.name, dataDir: run.dataDir }, 'starting run');
    try {
      await run.start();
    } catch (error) {
      log.error({ err: error }, 'run failed to start');
      this.emit({ type: 'status', status: { state: 'failed', scenarioName: scenario.name, elapsedMs: 0, cpuModel: scenario.cpuModel } });
      this.run = null;
      throw error;
    }
  }

  async command(input: unknown): Promise<void> {
    const command: Command = parseOrThrow(commandSchema, input, 'command');
    if (!this.run) throw new Error('No run is in progress; start one first');
    await this.run.command(command);
  }

  async stop(): Promise<RunReport | null> {
    if (!this.run) return null;
    return this.run.stop('stopped by user');
  }

  status(): RunStatus {
    return this.run?.status() ?? { state: 'idle', scenarioName: null, elapsedMs: 0, cpuModel: null };
  }

  /** Test hook: the current run, for checks that need its internals (ledger, server threads). */
  currentRun(): Run | null {
    return this.run;
  }
}
