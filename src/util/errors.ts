/**
 * A user-facing failure: bad input, unreachable cluster, bad flag. Commands print its message
 * on one line and exit with code 2; it never carries a stack trace to the user.
 */
export class InputFailure extends Error {
  override readonly name = 'InputFailure';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
