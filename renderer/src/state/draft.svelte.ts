import type { PresetInfo, ScenarioInput, TickSnapshot } from '../../../main/engine/api/protocol.ts';
import { REQUEST_KINDS, scenarioSchema, serviceTimesByKind, type RequestKind, type Scenario } from '../../../main/engine/api/scenario.ts';
import { formatDurationMs, parseDurationMs } from '../../../main/engine/api/units.ts';
import type { StartInput } from '../../../main/ipc/api.ts';
import type { InvalidPreset } from '../../../main/host/presets.ts';

/** A control's value as the user enters it: durations stay strings with units, as scenario files write them. */
export type FieldValue = string | number | boolean | ProfilePoint[];

/** One point of an open-model rate profile, as the profile editor stores it. */
export interface ProfilePoint {
  at: string;
  rateRps: number;
  transition: 'ramp' | 'step';
}

/**
 * A control's place in the scenario, written as the dotted path the scenario schema reports in
 * its errors ("balancer.healthCheck.interval"), so a host error lands next to its control.
 */
export type FieldPath = string;

/** After a command, ticks sent before the engine applied it would undo the control, so the sent value wins this long. */
const HOLD_AFTER_COMMAND_MS = 1500;

/**
 * The preset picker's state and the control values. Before a run, changed values are kept as
 * edits and applied to the preset's scenario when the run starts. During a run each change is
 * sent as a command, and the control follows what the engine reports in its ticks.
 */
export class Draft {
  presets = $state.raw<PresetInfo[]>([]);
  invalidPresets = $state.raw<InvalidPreset[]>([]);
  selectedFile = $state<string | null>(null);
  /** Values of the user's edits before a run, by field path. */
  edits = $state<Record<FieldPath, FieldValue>>({});
  /** The last edit of each duration field that parsed, kept while the field contains an invalid value. */
  private validDurationEdits = $state<Record<FieldPath, string>>({});
  /** Values sent as commands during the run, by field path, with the time they were sent. */
  private live = $state<Record<FieldPath, { value: FieldValue; sentAtMs: number }>>({});
  /** The scenario the current or last run started with, with defaults applied. */
  runScenario = $state.raw<Scenario | null>(null);

  readonly selected = $derived(this.presets.find((preset) => preset.file === this.selectedFile) ?? null);
  /** The selected preset's values by field path, with the schema's defaults for fields it leaves out. */
  readonly presetValues = $derived(this.selected ? fieldValuesOf(this.selected.scenario) : {});
  /** True when the values differ from the selected preset's. */
  readonly edited = $derived(Object.keys(this.edits).length > 0);

  setPresets(presets: PresetInfo[], invalid: InvalidPreset[]): void {
    this.presets = presets;
    this.invalidPresets = invalid;
    if (this.selected || presets.length === 0) return;
    // A new user starts from the simplest concept; the host lists presets from simplest to most advanced.
    const first = presets.find((preset) => preset.file === DEFAULT_PRESET_FILE) ?? presets[0];
    this.select(first.file);
  }

  select(file: string): void {
    this.selectedFile = file;
    this.edits = {};
    this.validDurationEdits = {};
  }

  /** Records an edit made before a run. */
  change(path: FieldPath, value: FieldValue): void {
    this.edits = { ...this.edits, [path]: value };
    if (typeof value === 'string' && DURATION_PATHS.includes(path) && parseDurationMs(value) !== undefined) {
      this.validDurationEdits = { ...this.validDurationEdits, [path]: value };
    }
  }

  /** Returns a duration field's value before a run: the last valid edit, else the preset's. */
  lastValidDuration(path: FieldPath): string {
    return this.validDurationEdits[path] ?? String(this.presetValues[path] ?? '');
  }

  /** Records a value sent to the running engine, so the control shows it until the ticks report it. */
  sent(path: FieldPath, value: FieldValue): void {
    this.live = { ...this.live, [path]: { value, sentAtMs: Date.now() } };
  }

  /** Forgets the values of the last run, when a new one starts. */
  beginRun(scenario: Scenario | null): void {
    this.live = {};
    this.runScenario = scenario;
  }

  /**
   * Returns the value a control shows. During a run: a value just sent, else what the tick
   * reports, else the last value sent, else the run's scenario. Before a run: the edit, else the preset.
   */
  value(path: FieldPath, tick: TickSnapshot | null, running: boolean): FieldValue | undefined {
    if (running) {
      const sent = this.live[path];
      if (sent && Date.now() - sent.sentAtMs < HOLD_AFTER_COMMAND_MS) return sent.value;
      const reported = tick ? tickValue(path, tick) : undefined;
      if (reported !== undefined) return reported;
      if (sent) return sent.value;
      if (this.runScenario) {
        const fromRun = fieldValuesFromScenario(this.runScenario)[path];
        if (fromRun !== undefined) return fromRun;
      }
    }
    return path in this.edits ? this.edits[path] : this.presetValues[path];
  }

  /** Returns the start input: the preset by name, or its scenario with the edits applied. */
  startInput(): StartInput | null {
    const preset = this.selected;
    if (!preset) return null;
    if (!this.edited) return { preset: preset.file };
    return { scenario: applyEdits(preset.scenario, { ...this.presetValues, ...this.edits }) };
  }

  /** Returns the scenario the next run starts with, with defaults applied, or null while the draft is invalid. */
  nextScenario(): Scenario | null {
    const preset = this.selected;
    if (!preset) return null;
    const input = this.edited ? applyEdits(preset.scenario, { ...this.presetValues, ...this.edits }) : preset.scenario;
    const parsed = scenarioSchema.safeParse(input);
    return parsed.success ? parsed.data : null;
  }
}

/** The preset the picker opens on when the host ships it. */
const DEFAULT_PRESET_FILE = 'single-server.json';

/** Closed-model settings a preset without them starts from when the user switches the model. */
const CLOSED_MODEL_DEFAULTS = { users: 50, thinkTime: '1s' } as const;
/** The open-model rate a closed-model preset starts from when the user switches the model. */
const OPEN_MODEL_DEFAULT_RATE_RPS = 100;

/** Field paths that are plain scenario fields, copied into the scenario as they are. */
const PLAIN_PATHS = [
  'load.rateRps',
  'load.arrival',
  'load.users',
  'load.thinkTime',
  'load.thinkDistribution',
  ...REQUEST_KINDS.map((kind) => `load.mix.${kind}`),
  'servers.count',
  'servers.vcpus',
  'dns.target',
  'dns.ttl',
  'balancer.algorithm',
  'balancer.healthCheck.enabled',
  'balancer.healthCheck.interval',
  'balancer.healthCheck.timeout',
  'balancer.healthCheck.rise',
  'balancer.healthCheck.fall',
  'balancer.outlierDetection.enabled',
  'balancer.outlierDetection.consecutiveErrors',
  'balancer.outlierDetection.baseEjectionTime',
  'balancer.outlierDetection.maxEjectedPercent',
  'balancer.slowStart',
  'balancer.queueLimit',
  'balancer.retries.enabled',
  'balancer.retries.maxAttempts',
  'balancer.retries.backoffBase',
  'balancer.retries.budgetPercent',
  'database.layout',
  'database.replicas',
  'database.replication.mode',
  'database.replication.delay',
  'database.readYourWrites',
  'database.failover.automatic',
] as const;

/** Every field path a control edits, for placing a host's validation errors next to their controls. */
export const CONTROL_PATHS: readonly FieldPath[] = [
  ...PLAIN_PATHS,
  'load',
  'load.model',
  'load.mix',
  'load.profile',
  ...REQUEST_KINDS.map((kind) => `load.cpuMs.${kind}`),
];

/** Reads every control's value from a scenario input, with the schema's defaults for fields it leaves out. */
function fieldValuesOf(input: ScenarioInput): Record<FieldPath, FieldValue> {
  const parsed = scenarioSchema.safeParse(input);
  // The host lists only presets that passed this schema, so a failure here means the schema changed after the list was read.
  return parsed.success ? fieldValuesFromScenario(parsed.data) : {};
}

function fieldValuesFromScenario(scenario: Scenario): Record<FieldPath, FieldValue> {
  const values: Record<FieldPath, FieldValue> = {};
  const durations = new Set(DURATION_PATHS);
  for (const path of PLAIN_PATHS) {
    const value = readPath(scenario, path);
    if (value === undefined) continue;
    values[path] = durations.has(path) ? formatDurationMs(value as number) : (value as FieldValue);
  }
  values['load.model'] = scenario.load.model;
  if (scenario.load.model === 'open') {
    values['load.users'] ??= CLOSED_MODEL_DEFAULTS.users;
    values['load.thinkTime'] ??= CLOSED_MODEL_DEFAULTS.thinkTime;
  } else {
    values['load.rateRps'] = OPEN_MODEL_DEFAULT_RATE_RPS;
  }
  values['load.profile'] = scenario.load.profile.map((point) => ({
    at: formatDurationMs(point.at),
    rateRps: point.rateRps,
    transition: point.transition,
  }));
  const times = serviceTimesByKind(scenario);
  for (const kind of REQUEST_KINDS) {
    values[`load.cpuMs.${kind}.distribution`] = times[kind].distribution;
    values[`load.cpuMs.${kind}.meanMs`] = times[kind].meanMs;
    // The editor offers the coefficient of variation; sigma written in a preset converts as cv = sqrt(exp(sigma^2) - 1).
    values[`load.cpuMs.${kind}.cv`] = times[kind].sigma > 0 ? roundTo(Math.sqrt(Math.expm1(times[kind].sigma ** 2)), 3) : 1;
  }
  return values;
}

/** Field paths whose values are durations: milliseconds in the parsed scenario, strings with units in the controls. */
const DURATION_PATHS: readonly string[] = [
  'load.thinkTime',
  'dns.ttl',
  'balancer.healthCheck.interval',
  'balancer.healthCheck.timeout',
  'balancer.outlierDetection.baseEjectionTime',
  'balancer.slowStart',
  'balancer.retries.backoffBase',
  'database.replication.delay',
];

/**
 * Builds a scenario input from the preset's and the edited values. The load model decides which
 * load fields the scenario may carry: the schema rejects a rate in the closed model and users in the open one.
 */
function applyEdits(preset: ScenarioInput, values: Record<FieldPath, FieldValue>): ScenarioInput {
  const scenario = structuredClone($state.snapshot(preset)) as Record<string, unknown>;
  for (const path of PLAIN_PATHS) {
    if (values[path] !== undefined) writePath(scenario, path, values[path]);
  }
  const load = scenario.load as Record<string, unknown>;
  load.model = values['load.model'];
  if (load.model === 'closed') {
    delete load.rateRps;
    delete load.profile;
    delete load.arrival;
  } else {
    delete load.users;
    delete load.thinkTime;
    delete load.thinkDistribution;
    load.profile = values['load.profile'];
  }
  const cpuMs: Record<string, unknown> = {};
  for (const kind of REQUEST_KINDS) cpuMs[kind] = serviceTimeInput(kind, values);
  load.cpuMs = cpuMs;
  return scenario as ScenarioInput;
}

function serviceTimeInput(kind: RequestKind, values: Record<FieldPath, FieldValue>): unknown {
  const distribution = values[`load.cpuMs.${kind}.distribution`];
  const meanMs = values[`load.cpuMs.${kind}.meanMs`];
  if (distribution === 'lognormal') return { distribution, meanMs, cv: values[`load.cpuMs.${kind}.cv`] };
  return { distribution, meanMs };
}

/** Returns what a tick reports for a control that commands change during a run, or undefined. */
export function tickValue(path: FieldPath, tick: TickSnapshot): FieldValue | undefined {
  switch (path) {
    case 'servers.count':
      return tick.config.servers;
    case 'servers.vcpus':
      return tick.config.vcpus;
    case 'load.rateRps':
      return tick.config.loadModel === 'open' ? tick.config.rateRps : undefined;
    case 'load.users':
      return tick.config.users ?? undefined;
    case 'load.model':
      return tick.config.loadModel;
    case 'balancer.algorithm':
      return tick.config.algorithm;
    case 'balancer.healthCheck.enabled':
      return tick.balancer.healthChecks;
    case 'balancer.outlierDetection.enabled':
      return tick.balancer.outlierDetection;
    case 'balancer.retries.enabled':
      return tick.balancer.retriesEnabled;
    case 'balancer.slowStart':
      return formatDurationMs(tick.balancer.slowStartMs);
    case 'database.layout':
      return tick.database.layout;
    case 'database.replicas':
      return tick.database.nodes.filter((node) => node.role === 'replica').length;
    case 'database.replication.mode':
      return tick.database.replicationMode;
    case 'database.readYourWrites':
      return tick.database.readYourWrites;
    case 'database.failover.automatic':
      return tick.database.automaticFailover;
    default:
      return undefined;
  }
}

function readPath(target: unknown, path: string): unknown {
  let current = target;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function writePath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let current = target;
  for (const key of keys.slice(0, -1)) {
    if (current[key] === null || typeof current[key] !== 'object') current[key] = {};
    current = current[key] as Record<string, unknown>;
  }
  current[keys.at(-1)!] = value;
}

function roundTo(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
