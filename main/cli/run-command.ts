import type { RunReport, ServerPush } from '../engine/api/protocol.ts';
import { subsystemLogger } from '../engine/log.ts';
import type { EngineClient } from '../host/engine-client.ts';
import { startEngine } from '../host/engine-host.ts';
import { LiveTable } from './live-table.ts';
import type { CpuModel, TableRows } from './options.ts';
import { createProgress, type Progress } from './progress.ts';
import { reportTarget, writeReport } from './report-file.ts';
import { EXIT_USAGE, loadScenarioFile, UsageError } from './scenario-file.ts';
import { summaryLines } from './summary.ts';

const log = subsystemLogger('cli');

/** Exit status of a run whose books did not balance, or whose engine failed. */
export const EXIT_FAILED = 1;
/** Exit status of a run stopped by Ctrl-C (128 + SIGINT), after its report was written. */
export const EXIT_INTERRUPTED = 130;

/** How often the command line requests the engine thread's status, to detect a thread that died. */
const WATCH_INTERVAL_MS = 1000;

export interface RunFlags {
  out?: string;
  force?: boolean;
  quiet?: boolean;
  rows: TableRows;
  duration?: string;
  rate?: number;
  servers?: number;
  vcpus?: number;
  cpuModel?: CpuModel;
  seed?: number;
}

/**
 * Runs a scenario file headless: validates it, starts the engine thread, shows progress and the
 * live table, and writes the report. Returns the exit status: 0 when the books balanced, 1 when
 * they did not or the engine failed, 2 for invalid input, 130 after Ctrl-C (report written).
 */
export async function runCommand(file: string, flags: RunFlags, cwd = process.cwd()): Promise<number> {
  const { input, scenario } = await loadScenarioFile(file, {
    duration: flags.duration,
    rateRps: flags.rate,
    servers: flags.servers,
    vcpus: flags.vcpus,
    cpuModel: flags.cpuModel,
    seed: flags.seed,
  });
  const target = reportTarget({ out: flags.out, force: flags.force === true, scenarioName: scenario.name, cwd });

  const progress = createProgress(scenario.duration, { quiet: flags.quiet === true });
  const load =
    scenario.load.model === 'closed'
      ? `closed model (hides stalls): ${scenario.load.users} users, ${scenario.load.thinkTime} ms think time`
      : `open model: ${scenario.load.rateRps} requests/s`;
  progress.note(
    `Starting "${scenario.name}": ${scenario.servers.count} server(s) x ${scenario.servers.vcpus} vCPUs, ` +
      `${load}, ${(scenario.duration / 1000).toFixed(1)} s, ${scenario.cpuModel} CPU model`,
  );

  const engine = await startEngine();
  const session = new RunSession(engine, progress, flags);
  let report: RunReport;
  try {
    report = await session.run(input);
  } finally {
    progress.stop();
    session.dispose();
    await engine.close().catch((error: unknown) => log.warn({ err: error }, 'closing the engine thread failed'));
  }

  const written = await writeReport(target, report);
  if (flags.quiet) process.stdout.write(`${written}\n`);
  else process.stdout.write(`${summaryLines(report, written).join('\n')}\n`);

  if (!report.summary.booksBalanced) {
    process.stderr.write('error: the run\'s books did not balance (sent != ok + errors + in flight in some tick); see the report\'s ticks\n');
    return EXIT_FAILED;
  }
  return session.interrupted ? EXIT_INTERRUPTED : 0;
}

/** One run on an engine thread: its pushes, Ctrl-C handling, and the watch on the thread. */
class RunSession {
  interrupted = false;
  private started = false;
  private readonly table: LiveTable;
  private readonly unsubscribe: () => void;
  private resolveFinished!: (report: RunReport) => void;
  private readonly finished = new Promise<RunReport>((resolve) => (this.resolveFinished = resolve));
  private watchTimer: NodeJS.Timeout | undefined;
  private disposed = false;
  private readonly onSignal = (signal: NodeJS.Signals): void => this.interrupt(signal);

  constructor(
    private readonly engine: EngineClient,
    private readonly progress: Progress,
    flags: RunFlags,
  ) {
    this.table = new LiveTable(flags.rows, (line) => progress.row(line));
    this.unsubscribe = engine.subscribe((message) => this.onPush(message));
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  /** Starts the run and resolves with its report once it has finished or been stopped. */
  async run(input: unknown): Promise<RunReport> {
    try {
      await this.engine.start(input as Parameters<EngineClient['start']>[0]);
    } catch (error) {
      if ((error as Error).name === 'ValidationError') throw new UsageError((error as Error).message);
      throw error;
    }
    this.started = true;
    // A Ctrl-C while the servers were starting is carried out now: the engine cannot stop a run mid-start.
    if (this.interrupted) this.requestStop();
    return Promise.race([this.finished, this.watchEngine()]);
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.watchTimer);
    this.unsubscribe();
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  private onPush(message: ServerPush): void {
    switch (message.type) {
      case 'tick':
        this.table.add(message.tick);
        this.progress.update(message.tick.tMs);
        return;
      case 'event':
        this.progress.note(`[${(message.event.tMs / 1000).toFixed(1).padStart(6)} s] ${message.event.kind}: ${message.event.message}`);
        return;
      case 'status':
        if (message.status.state === 'stopping') this.progress.note('Stopping: waiting for requests in flight to end');
        return;
      case 'finished':
        this.table.flush();
        this.resolveFinished(message.report);
        return;
      default: {
        const unknown: never = message;
        log.warn({ message: unknown }, 'unknown push from the engine thread');
      }
    }
  }

  private interrupt(signal: NodeJS.Signals): void {
    if (this.interrupted) {
      process.stderr.write(`\n${signal} again: quitting without a report\n`);
      process.exit(EXIT_INTERRUPTED);
    }
    this.interrupted = true;
    this.progress.note(`${signal}: stopping the run and writing its report (press Ctrl-C again to quit without one)`);
    if (this.started) this.requestStop();
  }

  private requestStop(): void {
    this.engine.stop().catch((error: unknown) => log.error({ err: error }, 'stopping the run failed'));
  }

  /** Rejects when a status request to the engine thread fails, because a dead thread would otherwise leave the run waiting forever. */
  private watchEngine(): Promise<never> {
    return new Promise((_, reject) => {
      const check = (): void => {
        this.engine.status().then(
          () => {
            if (!this.disposed) this.watchTimer = setTimeout(check, WATCH_INTERVAL_MS);
          },
          (error: Error) => reject(new Error(`The engine thread failed: ${error.message}`)),
        );
      };
      this.watchTimer = setTimeout(check, WATCH_INTERVAL_MS);
    });
  }
}

export { EXIT_USAGE };
