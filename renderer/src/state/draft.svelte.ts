import type { Algorithm, PresetInfo, ScenarioInput } from '../../../main/engine/api/protocol.ts';
import { scenarioSchema } from '../../../main/engine/api/scenario.ts';
import type { StartInput } from '../../../main/ipc/api.ts';
import type { InvalidPreset } from '../../../main/host/presets.ts';

/** The settings the controls show: the chosen preset's values, changed by the user before or during a run. */
export interface ControlValues {
  servers: number;
  vcpus: number;
  rateRps: number;
  algorithm: Algorithm;
}

/**
 * The preset picker's state and the control values. Before a run, changed values are applied to
 * the preset's scenario when the run starts; during a run each change is sent as a command.
 */
export class Draft {
  presets = $state.raw<PresetInfo[]>([]);
  invalidPresets = $state.raw<InvalidPreset[]>([]);
  selectedFile = $state<string | null>(null);
  values = $state<ControlValues>({ servers: 1, vcpus: 2, rateRps: 100, algorithm: 'round-robin' });
  /** True when the values differ from the selected preset's. */
  edited = $state(false);

  readonly selected = $derived(this.presets.find((preset) => preset.file === this.selectedFile) ?? null);

  setPresets(presets: PresetInfo[], invalid: InvalidPreset[]): void {
    this.presets = presets;
    this.invalidPresets = invalid;
    if (!this.selected && presets.length > 0) this.select(presets[0].file);
  }

  select(file: string): void {
    this.selectedFile = file;
    const preset = this.selected;
    if (preset) this.values = valuesOf(preset.scenario);
    this.edited = false;
  }

  change(values: Partial<ControlValues>): void {
    this.values = { ...this.values, ...values };
    this.edited = true;
  }

  /** Sets the values to those the engine reports or was just sent, without marking them as edits of the preset. */
  follow(values: Partial<ControlValues>): void {
    const next = { ...this.values, ...values };
    const changed = (Object.keys(next) as (keyof ControlValues)[]).some((key) => next[key] !== this.values[key]);
    if (changed) this.values = next;
  }

  /** Returns the start input: the preset by name, or its scenario with the edited values applied. */
  startInput(): StartInput | null {
    const preset = this.selected;
    if (!preset) return null;
    if (!this.edited) return { preset: preset.file };
    const scenario = preset.scenario;
    return {
      scenario: {
        ...scenario,
        load: { ...scenario.load, rateRps: this.values.rateRps },
        servers: { ...scenario.servers, count: this.values.servers, vcpus: this.values.vcpus },
        balancer: { ...scenario.balancer, algorithm: this.values.algorithm },
      },
    };
  }
}

/** Reads the control values from a scenario, with the schema's defaults for fields it leaves out. */
function valuesOf(input: ScenarioInput): ControlValues {
  const scenario = scenarioSchema.parse(input);
  return {
    servers: scenario.servers.count,
    vcpus: scenario.servers.vcpus,
    rateRps: scenario.load.rateRps,
    algorithm: scenario.balancer.algorithm,
  };
}
