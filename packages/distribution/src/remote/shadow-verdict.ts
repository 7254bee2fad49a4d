import { isDeepStrictEqual } from 'node:util';
import { isModuleError } from '@shop/contract-kit';
import { PlatformErrors } from '@shop/platform';
import { isUnavailableAnswer } from './remote-errors.ts';
import { stableJson } from './normalise.ts';

/** How one side of a dark-launched call ended. Only the shadow can time out: the caller waits for local. */
export type Outcome =
  | { readonly kind: 'answer'; readonly value: unknown }
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'timeout' };

/** `shadow_error` is "no verdict": the shadow failed to answer, so nothing was learnt about it. */
export type Verdict = 'match' | 'mismatch' | 'shadow_error';

/**
 * Compares the two sides as a client would see them: answers after `normalise`, errors by
 * their `ModuleError` code only (detail texts and stack traces legitimately differ).
 */
export function verdictOf(local: Outcome, shadow: Outcome, normalise: (value: unknown) => unknown): Verdict {
  if (shadow.kind === 'timeout') return 'shadow_error';
  if (shadow.kind === 'error') {
    // A remote client throws only ModuleErrors for answers; anything else is its trip failing.
    if (!isModuleError(shadow.error)) return 'shadow_error';
    if (local.kind === 'error' && codeOf(local.error) === shadow.error.code) return 'match';
    // "Could not reach the copy" says nothing about the copy's logic: not a mismatch.
    if (shadow.error.code === PlatformErrors.moduleUnavailable.code || isUnavailableAnswer(shadow.error)) return 'shadow_error';
    return 'mismatch';
  }
  if (local.kind !== 'answer') return 'mismatch';
  return isDeepStrictEqual(normalise(local.value), normalise(shadow.value)) ? 'match' : 'mismatch';
}

/**
 * The code a client would see for a local error: its own, or `internal` for an unexpected
 * one (what the HTTP edge answers, hence what the remote copy's 500 carries).
 */
function codeOf(error: unknown): string {
  return isModuleError(error) ? error.code : PlatformErrors.internal.code;
}

/** One side as plain data: its answer, `{ error: { code, detail } }`, or `{ timeout: true }`. */
export function outcomeAsData(outcome: Outcome): unknown {
  switch (outcome.kind) {
    case 'timeout':
      return { timeout: true };
    case 'error':
      return { error: { code: codeOf(outcome.error), detail: messageOf(outcome.error) } };
    case 'answer':
      return outcome.value;
  }
}

/** One side, as text for a log line: bounded, so a mismatch on a big page cannot flood the logs. */
export function describeOutcome(outcome: Outcome, maxChars: number): string {
  switch (outcome.kind) {
    case 'timeout':
      return 'timeout';
    case 'error':
      return truncate(`error ${codeOf(outcome.error)}: ${messageOf(outcome.error)}`, maxChars);
    case 'answer':
      return describeValue(outcome.value, maxChars);
  }
}

function messageOf(error: unknown): string {
  if (isModuleError(error)) return error.detail; // its message repeats the code
  return error instanceof Error ? error.message : String(error);
}

/** A value as canonical JSON (keys sorted, so two answers read side by side line up), bounded. */
export function describeValue(value: unknown, maxChars: number): string {
  let text: string;
  try {
    text = stableJson(value);
  } catch {
    text = String(value); // a BigInt or a cycle: still say something
  }
  return truncate(text, maxChars);
}

function truncate(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}…(${text.length - maxChars} more chars)`;
}
