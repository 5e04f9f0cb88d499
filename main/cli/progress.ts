import cliProgress from 'cli-progress';

/** The progress display of a run: a redrawn bar on a terminal, plain lines in a log or pipe. */
export interface Progress {
  /** Shows elapsed time against the run's duration. */
  update(elapsedMs: number): void;
  /** Prints a line of its own (an event or a status change) without breaking the bar. */
  note(line: string): void;
  /** Prints a table row on standard output without breaking the bar. */
  row(line: string): void;
  stop(): void;
}

/** Plain progress lines are at least this far apart. */
const PLAIN_EVERY_MS = 5000;

/**
 * Returns a progress display for a run of `durationMs`: a bar on standard error when it is a
 * terminal, otherwise a plain line every few seconds. Quiet mode prints nothing.
 */
export function createProgress(durationMs: number, options: { quiet: boolean; stderr?: NodeJS.WriteStream; stdout?: NodeJS.WriteStream }): Progress {
  const stderr = options.stderr ?? process.stderr;
  const stdout = options.stdout ?? process.stdout;
  if (options.quiet) return { update() {}, note() {}, row() {}, stop() {} };
  if (stderr.isTTY) return new BarProgress(durationMs, stderr, stdout);
  return new PlainProgress(durationMs, stderr, stdout);
}

class BarProgress implements Progress {
  private readonly bar: cliProgress.SingleBar;
  private stopped = false;

  constructor(
    durationMs: number,
    private readonly stderr: NodeJS.WriteStream,
    private readonly stdout: NodeJS.WriteStream,
  ) {
    this.bar = new cliProgress.SingleBar(
      {
        stream: stderr,
        format: ' {bar} {percentage}% | {elapsedSeconds} s of {runSeconds} s',
        hideCursor: true,
        clearOnComplete: true,
        // The run handles Ctrl-C itself: it stops the engine and writes the report first.
        gracefulExit: false,
        // Lines printed above the bar erase it, so it must redraw even when its text is unchanged.
        forceRedraw: true,
      },
      cliProgress.Presets.shades_classic,
    );
    // cli-progress reserves {duration} and {eta} for its own timing, hence these names.
    this.bar.start(durationMs, 0, { elapsedSeconds: '0.0', runSeconds: (durationMs / 1000).toFixed(1) });
  }

  update(elapsedMs: number): void {
    this.bar.update(Math.min(elapsedMs, this.bar.getTotal()), { elapsedSeconds: (elapsedMs / 1000).toFixed(1) });
  }

  note(line: string): void {
    this.clearBarLine();
    this.stderr.write(`${line}\n`);
  }

  row(line: string): void {
    this.clearBarLine();
    this.stdout.write(`${line}\n`);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    // SingleBar.stop() moves the cursor back to where start() saved it, which is above every line
    // printed since. Saving the position again first keeps the cursor on the bar's own line.
    this.stderr.write('\x1b7');
    this.bar.stop();
  }

  private clearBarLine(): void {
    if (!this.stopped) this.stderr.write('\r\x1b[2K');
  }
}

class PlainProgress implements Progress {
  private lastPrintedMs = -Infinity;

  constructor(
    private readonly durationMs: number,
    private readonly stderr: NodeJS.WriteStream,
    private readonly stdout: NodeJS.WriteStream,
  ) {}

  update(elapsedMs: number): void {
    // Past the duration the run is draining, which the "Stopping" note has already reported.
    if (elapsedMs > this.durationMs || elapsedMs - this.lastPrintedMs < PLAIN_EVERY_MS) return;
    this.lastPrintedMs = elapsedMs;
    const percent = Math.min(100, Math.round((elapsedMs / this.durationMs) * 100));
    this.stderr.write(`progress: ${(elapsedMs / 1000).toFixed(1)} s of ${(this.durationMs / 1000).toFixed(1)} s (${percent}%)\n`);
  }

  note(line: string): void {
    this.stderr.write(`${line}\n`);
  }

  row(line: string): void {
    this.stdout.write(`${line}\n`);
  }

  stop(): void {}
}
