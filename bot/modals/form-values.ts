import type { ViewOutput } from '@slack/bolt';
import type { FieldProblems } from '../../core/domain/validation/field-problems.ts';
import { VALUE } from './elements.ts';

/** What a submitted modal holds, keyed by input block id (each block's one element is {@link VALUE}). */
export type StateValues = ViewOutput['state']['values'];
/** Slack's `response_action: errors`: one line under each input, keyed by its block id. */
export type FieldErrors = Record<string, string>;
export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: FieldErrors };

/** A text (or time) input, trimmed. */
export function textOf(values: StateValues, block: string): string {
  return typedTextOf(values, block).trim();
}

/** A text input exactly as typed: for a password, where spaces count. */
export function typedTextOf(values: StateValues, block: string): string {
  const v = values[block]?.[VALUE];
  return v?.value ?? v?.selected_time ?? '';
}

export function selectedOf(values: StateValues, block: string): string | undefined {
  return values[block]?.[VALUE]?.selected_option?.value ?? undefined;
}

export function checkedOf(values: StateValues, block: string): Set<string> {
  return new Set((values[block]?.[VALUE]?.selected_options ?? []).map((o) => o.value));
}

/**
 * The core's problems as lines under the form's inputs: each field's problem on its block (`blocks` maps
 * the core's field names to block ids), capitalised and ended like a sentence.
 */
export function fieldErrors<F extends string>(problems: FieldProblems, blocks: Record<F, string>): FieldErrors {
  const errors: FieldErrors = {};
  for (const [field, problem] of Object.entries(problems)) {
    const block = blocks[field as F];
    if (block) errors[block] = sentence(problem);
  }
  return errors;
}

function sentence(problem: string): string {
  const text = problem.charAt(0).toUpperCase() + problem.slice(1);
  return /[.!?)]$/.test(text) ? text : `${text}.`;
}
