/**
 * Failure injection: `failAt(step, failure)` arms a failure for the next request(s) mapped to that step.
 * Several failures armed for one step are used first-armed first; each serves `times` requests.
 */
import type { SimulatorFailure, SimulatorStep } from './types.ts';

export interface ArmedFailure {
  status: number;
  message: string;
  afterApply: boolean;
}

interface Slot extends ArmedFailure {
  remaining: number;
  when: ((request: { method: string; path: string }) => boolean) | undefined;
}

export function defaultFailureMessage(step: SimulatorStep, status: number): string {
  if (status === 503)
    return `01070000:3: Simulated outage at step '${step}': the configuration daemon is busy, try again.`;
  return `01070000:3: Simulated failure at step '${step}'.`;
}

export class Failures {
  private readonly armed = new Map<SimulatorStep, Slot[]>();

  arm(step: SimulatorStep, failure: SimulatorFailure = {}): void {
    const status = failure.status ?? 500;
    const slot: Slot = {
      status,
      message: failure.message ?? defaultFailureMessage(step, status),
      afterApply: failure.afterApply ?? false,
      remaining: failure.times ?? 1,
      when: failure.when,
    };
    if (slot.remaining <= 0) return;
    const list = this.armed.get(step) ?? [];
    list.push(slot);
    this.armed.set(step, list);
  }

  clear(): void {
    this.armed.clear();
  }

  /** The failure the next request at `step` must answer, consuming one use; null when none is armed. */
  take(
    step: SimulatorStep | null,
    request: { method: string; path: string } = { method: '', path: '' },
  ): ArmedFailure | null {
    if (step === null) return null;
    const list = this.armed.get(step);
    const slot = list?.[0];
    if (!list || !slot) return null;
    if (slot.when && !slot.when(request)) return null;
    slot.remaining -= 1;
    if (slot.remaining <= 0) list.shift();
    if (list.length === 0) this.armed.delete(step);
    return { status: slot.status, message: slot.message, afterApply: slot.afterApply };
  }
}
