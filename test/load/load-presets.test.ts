import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../main/engine/api/commands.ts';
import { parseScenario, type Scenario } from '../../main/engine/api/scenario.ts';

function preset(file: string): Scenario {
  return parseScenario(JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'scenarios', file), 'utf8')));
}

describe('scaling presets', () => {
  it('vertical and horizontal pair share load and total vCPUs', () => {
    const vertical = preset('vertical-vs-horizontal.json');
    const horizontal = preset('vertical-vs-horizontal-8x1.json');
    expect(vertical.servers).toEqual({ ...vertical.servers, count: 1, vcpus: 8 });
    expect(horizontal.servers).toEqual({ ...horizontal.servers, count: 8, vcpus: 1 });
    expect(horizontal.load).toEqual(vertical.load);
    expect(horizontal.timeline).toEqual(vertical.timeline);
    expect(horizontal.duration).toBe(vertical.duration);
  });

  it('vertical ceiling grows a lone server to the largest size', () => {
    const ceiling = preset('vertical-ceiling.json');
    expect(ceiling.servers.count).toBe(1);
    const sizes = ceiling.timeline.map((entry) => (entry.command.type === 'set-vcpus' ? entry.command.vcpus : Number.NaN));
    expect(sizes.at(-1)).toBe(LIMITS.vcpus.max);
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeGreaterThan(sizes[i - 1]);
    const times = ceiling.timeline.map((entry) => entry.at);
    expect(times.at(-1)!).toBeLessThan(ceiling.duration);
  });
});
