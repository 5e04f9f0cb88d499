import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The real npm bin entry, run as a user runs it. */
export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'scalelab.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  /** Resolves once standard output or standard error contains `text`. */
  waitFor(text: string): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** Standard output so far. */
  stdout(): string;
  done: Promise<CliResult>;
}

/** Starts `node bin/scalelab.js ...args` in `cwd`; the child is killed if it runs past `timeoutMs`. */
export function startCli(args: string[], cwd: string, timeoutMs = 60_000): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  const onData = (): void => {
    for (const waiter of [...waiters]) {
      if (stdout.includes(waiter.text) || stderr.includes(waiter.text)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    onData();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    onData();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    waitFor: (text) =>
      new Promise((resolve) => {
        waiters.push({ text, resolve });
        onData();
      }),
    kill: (signal) => child.kill(signal),
    stdout: () => stdout,
    done,
  };
}

/** Runs the command line to its end. */
export function runCli(args: string[], cwd: string, timeoutMs?: number): Promise<CliResult> {
  return startCli(args, cwd, timeoutMs).done;
}

/** Makes a temporary folder for one test's scenario files and reports. */
export function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'scalelab-cli-'));
}

/** Returns a short, valid scenario: one server, light load, `duration` long, a second server at 1 s. */
export function shortScenario(duration = '2s'): Record<string, unknown> {
  return {
    version: 1,
    name: 'CLI test run',
    duration,
    cpuModel: 'virtual',
    load: { model: 'open', rateRps: 300, arrival: 'poisson', clients: 100 },
    servers: { count: 1, vcpus: 2 },
    timeline: [{ at: '1s', command: { type: 'set-servers', count: 2 } }],
  };
}

export async function writeScenario(dir: string, name: string, scenario: unknown): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, typeof scenario === 'string' ? scenario : JSON.stringify(scenario, null, 2));
  return file;
}
