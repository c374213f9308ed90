import { CoreError, isCoreError } from '../../errors.ts';

/**
 * What is wrong with an input, one plain sentence per field, keyed by the field's name; empty when nothing is.
 * Forms show each sentence beside its field; services refuse with all of them at once ({@link invalidInput}).
 */
export type FieldProblems = Record<string, string>;

export function hasProblems(problems: FieldProblems): boolean {
  return Object.keys(problems).length > 0;
}

/** The refusal a service throws for problems: the sentences in the message, the fields kept in `detail`. */
export function invalidInput(problems: FieldProblems): CoreError {
  return new CoreError('input_invalid', Object.values(problems).join('; '), { detail: { fields: problems } });
}

/** Services call this after checking: nothing happens when there is no problem. */
export function refuseProblems(problems: FieldProblems): void {
  if (hasProblems(problems)) throw invalidInput(problems);
}

/** A rule written as a throwing check, as a problem: its input_invalid message, or null when it passes. */
export function problemOf(check: () => unknown): string | null {
  try {
    check();
    return null;
  } catch (err) {
    if (isCoreError(err) && err.code === 'input_invalid') return err.message;
    throw err;
  }
}
