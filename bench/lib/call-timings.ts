/** `--trace` in the benchmarks: wall time and count per operation, summed over all calls. */
export type CallTimings = Map<string, { count: number; ms: number }>;

export const callTimings: CallTimings = new Map();

/** Adds one call of `ms` to `label`. */
export function recordCall(label: string, ms: number, timings: CallTimings = callTimings): void {
  const t = timings.get(label) ?? { count: 0, ms: 0 };
  t.count += 1;
  t.ms += ms;
  timings.set(label, t);
}

/**
 * A copy of `target` whose methods record their time under `<prefix>.<method>` (own and prototype methods; a
 * copy because the adapters may be frozen, which rules out a Proxy).
 */
export function instrument<T extends object>(target: T, prefix: string, timings: CallTimings = callTimings): T {
  const keys = new Set<string>();
  for (let o: object | null = target; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const k of Object.getOwnPropertyNames(o)) if (k !== 'constructor') keys.add(k);
  }
  const copy: Record<string, unknown> = {};
  for (const key of keys) {
    const value = (target as Record<string, unknown>)[key];
    if (typeof value !== 'function') {
      copy[key] = value;
      continue;
    }
    const label = `${prefix}.${key}`;
    copy[key] = (...callArgs: unknown[]) => {
      const started = performance.now();
      const done = () => recordCall(label, performance.now() - started, timings);
      const result = (value as (...a: unknown[]) => unknown).apply(target, callArgs);
      if (result instanceof Promise) return result.finally(done);
      done();
      return result;
    };
  }
  return copy as T;
}
