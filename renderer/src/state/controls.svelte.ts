import type { z } from 'zod';
import type { commandSchema } from '../../../main/engine/api/commands.ts';
import type { ScaleLabApi } from '../../../main/ipc/api.ts';
import { tickValue, type Draft, type FieldPath, type FieldValue } from './draft.svelte.ts';
import type { RunModel } from './run-model.svelte.ts';

import type { CommandInput } from '../../../main/engine/api/commands.ts';

export type { CommandInput };

/**
 * The shared handling of control changes. Before a run a change edits the draft, and during a run
 * it sends the command that makes it live. A host error stays next to the control that caused it
 * until that control changes again.
 */
export class Controls {
  /** Host error messages by the field path of the control that caused them. */
  errors = $state<Record<FieldPath, string>>({});

  constructor(
    readonly api: ScaleLabApi,
    readonly model: RunModel,
    readonly draft: Draft,
  ) {}

  get running(): boolean {
    return this.model.running;
  }

  value(path: FieldPath): FieldValue | undefined {
    return this.draft.value(path, this.model.tick, this.model.running);
  }

  /** Returns what the last tick of a finished run reported for a control; undefined during a run and before the first. */
  lastRunValue(path: FieldPath): FieldValue | undefined {
    if (this.model.running || !this.model.tick) return undefined;
    return tickValue(path, this.model.tick);
  }

  number(path: FieldPath): number {
    return Number(this.value(path) ?? 0);
  }

  text(path: FieldPath): string {
    return String(this.value(path) ?? '');
  }

  flag(path: FieldPath): boolean {
    return this.value(path) === true;
  }

  /**
   * Applies a change. `command` is the live command for it, or null for a setting that only a new
   * run can change, which then edits the draft.
   */
  async set(path: FieldPath, value: FieldValue, command: CommandInput | null): Promise<void> {
    this.clearError(path);
    if (!this.model.running || command === null) {
      this.draft.change(path, value);
      return;
    }
    this.draft.sent(path, value);
    await this.send(command, path);
  }

  /** Sends a command that no single control owns (a fault, a drain); its error goes to `errorPath` or the top bar. */
  async send(command: CommandInput, errorPath: FieldPath | null = null): Promise<boolean> {
    try {
      await this.api.command(command);
      return true;
    } catch (error) {
      // The "Invalid request:" header adds nothing next to a control: the lines after it name the field.
      const message = (error as Error).message.replace(/^Invalid request:\n/, '');
      if (errorPath === null) this.model.error = message;
      else this.errors = { ...this.errors, [errorPath]: message };
      return false;
    }
  }

  /**
   * Shows a rejected start's errors next to their controls. The host's validation message lists
   * one "field.path: message" line per invalid field. Each line goes to the control whose path is
   * the longest prefix of the field's, and a line that matches no control goes to the top bar.
   */
  showStartError(message: string, paths: readonly FieldPath[]): void {
    const byPath: Record<FieldPath, string> = {};
    const unplaced: string[] = [];
    for (const line of message.split('\n').slice(1)) {
      const separator = line.indexOf(': ');
      const field = separator > 0 ? line.slice(0, separator) : '';
      const owner = paths.filter((path) => field === path || field.startsWith(`${path}.`)).sort((a, b) => b.length - a.length)[0];
      if (owner) byPath[owner] = byPath[owner] ? `${byPath[owner]}\n${line}` : line;
      else unplaced.push(line);
    }
    this.errors = byPath;
    const placed = Object.keys(byPath).length;
    this.model.error = unplaced.length > 0 || placed === 0 ? message : `The scenario is invalid: see the ${placed === 1 ? 'field' : `${placed} fields`} marked in the controls`;
  }

  clearError(path: FieldPath): void {
    if (!(path in this.errors)) return;
    const { [path]: _cleared, ...rest } = this.errors;
    this.errors = rest;
  }

  clearErrors(): void {
    this.errors = {};
  }
}
