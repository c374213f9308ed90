/**
 * Route lookup and the all-or-nothing application of writes: a write (or a transaction's commands) runs on
 * the live state, then the affected profiles are checked; any error puts the snapshot back.
 */
import type { RouteDef, RouteMethod } from './context.ts';
import { checkProfiles } from './consistency.ts';
import { restore, type SimulatorState, snapshot } from './state.ts';

export interface RouteMatch {
  def: RouteDef;
  /** Undefined when the path exists but not for this method. */
  method: RouteMethod | undefined;
  params: string[];
}

export class Dispatcher {
  private readonly routes: RouteDef[] = [];

  add(routes: RouteDef[]): void {
    this.routes.push(...routes);
  }

  resolve(method: string, pathname: string): RouteMatch | null {
    for (const def of this.routes) {
      const m = def.pattern.exec(pathname);
      if (m) return { def, method: def.methods[method as keyof RouteDef['methods']], params: m.slice(1) };
    }
    return null;
  }
}

/** Runs `apply` with a fresh touched-set, checks the affected profiles, and undoes everything on any error. */
export function atomically<T>(state: SimulatorState, apply: (touched: Set<string>) => T): T {
  const before = snapshot(state);
  const touched = new Set<string>();
  try {
    const result = apply(touched);
    checkProfiles(state, touched);
    return result;
  } catch (err) {
    restore(state, before);
    throw err;
  }
}

/** `/mgmt/tm/sys/` → `/mgmt/tm/sys`. */
export function normalizePathname(pathname: string): string {
  return pathname.length > 1 && pathname.endsWith('/') ? pathname.replace(/\/+$/, '') : pathname;
}
