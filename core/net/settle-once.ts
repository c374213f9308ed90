/**
 * A promise's `resolve` that takes the first outcome only, cleaning up (a timer, a socket) before it resolves:
 * a request can report an error, a timeout and a response in any order, and only the first one counts.
 */
export function settleOnce<T>(resolve: (outcome: T) => void, cleanup: () => void): (outcome: T) => void {
  let settled = false;
  return (outcome) => {
    if (settled) return;
    settled = true;
    cleanup();
    resolve(outcome);
  };
}
