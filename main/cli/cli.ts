import { Command, CommanderError, Option } from 'commander';
import { LIMITS } from '../engine/api/commands.ts';
import { subsystemLogger } from '../engine/log.ts';
import { cpuModelFlag, CPU_MODELS, durationFlag, portFlag, rateFlag, seedFlag, serversFlag, TABLE_ROWS, tableRowsFlag, vcpusFlag } from './options.ts';
import { EXIT_FAILED, runCommand, type RunFlags } from './run-command.ts';
import { EXIT_USAGE, UsageError } from './scenario-file.ts';
import { validateCommand } from './validate-command.ts';
import { webCommand, type WebFlags } from './web-command.ts';

const log = subsystemLogger('cli');

const EXIT_CODES_HELP = `
Exit status:
  0    the run finished and its books balanced (or the file is valid)
  1    the run's books did not balance, or the engine failed
  2    invalid input: a bad flag value, or a scenario file that is missing, not JSON or invalid
  130  the run was stopped with Ctrl-C; its report was still written`;

/** Parses `argv` (as process.argv), runs the command, and returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = buildProgram((code) => (exitCode = code));
  try {
    await program.parseAsync(argv);
  } catch (error) {
    return exitCodeOf(error);
  }
  return exitCode;
}

function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('scalelab')
    .description('Run ScaleLab scenarios headless, validate scenario files, or serve the UI to a browser.')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('run')
    .description('Run a scenario headless, show a live table, and write a JSON report.')
    .argument('<scenario.json>', 'scenario file, for example scenarios/scale-out.json')
    .option('-o, --out <file>', 'report file (default: reports/<scenario-name>-<timestamp>.json in the current folder)')
    .option('-f, --force', 'replace the --out file if it exists')
    .option('-q, --quiet', 'print no progress and no table, only the report path')
    .option('-d, --duration <duration>', 'run length with a unit, such as 30s or 500ms (500ms to 24h); replaces the scenario\'s duration and leaves out timeline commands after it', durationFlag)
    .option('-r, --rate <requestsPerSecond>', `offered load in requests per second (${LIMITS.rateRps.min} to ${LIMITS.rateRps.max})`, rateFlag)
    .option('-s, --servers <count>', `servers at the start (${LIMITS.servers.min} to ${LIMITS.servers.max})`, serversFlag)
    .option('--vcpus <count>', `vCPUs per server (${LIMITS.vcpus.min} to ${LIMITS.vcpus.max}; at most ${LIMITS.realVcpus.max} in the real CPU model)`, vcpusFlag)
    .addOption(new Option('--cpu-model <model>', `CPU model (${CPU_MODELS.join(' or ')})`).argParser(cpuModelFlag))
    .option('--seed <integer>', 'random seed for arrivals and the request mix (0 to 2147483647)', seedFlag)
    .addOption(
      new Option('--rows <mode>', `table rows: one per second or one per tick (${TABLE_ROWS.join(' or ')})`).argParser(tableRowsFlag).default('second'),
    )
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (file: string, flags: RunFlags) => setExitCode(await runCommand(file, flags)));

  program
    .command('validate')
    .description('Check a scenario file against the schema and print what it would run.')
    .argument('<scenario.json>', 'scenario file')
    .action(async (file: string) => setExitCode(await validateCommand(file)));

  program
    .command('web')
    .description('Serve the built UI (out/renderer, made by "npm run build") on 127.0.0.1 until Ctrl-C.')
    .addOption(new Option('-p, --port <port>', 'TCP port on 127.0.0.1 (0 to 65535; 0 picks a free port)').argParser(portFlag).default(0))
    .action(async (flags: WebFlags) => setExitCode(await webCommand(flags)));

  return program;
}

/** Maps an error from parsing or from a command to an exit status, printing it unless commander already did. */
function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander has printed its message (or the help) already.
    return error.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (error instanceof UsageError) {
    process.stderr.write(`error: ${error.message}\n`);
    return EXIT_USAGE;
  }
  log.error({ err: error }, 'command failed');
  process.stderr.write(`error: ${(error as Error).message ?? String(error)}\n`);
  return EXIT_FAILED;
}
