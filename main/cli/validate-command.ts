import { formatDurationMs } from '../engine/api/units.ts';
import { loadScenarioFile } from './scenario-file.ts';

/** Validates a scenario file and prints what it would run; an invalid file throws a UsageError naming the field. */
export async function validateCommand(file: string): Promise<number> {
  const { scenario } = await loadScenarioFile(file);
  process.stdout.write(
    `${file}: valid scenario "${scenario.name}": ${formatDurationMs(scenario.duration)}, ` +
      `${scenario.servers.count} server(s) x ${scenario.servers.vcpus} vCPUs, ${scenario.load.rateRps} requests/s, ` +
      `${scenario.cpuModel} CPU model, ${scenario.timeline.length} timeline command(s)\n`,
  );
  return 0;
}
