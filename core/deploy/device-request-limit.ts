import type { BigIpClient } from '../ports/bigip-client.ts';

/**
 * At most `max` requests in flight to one device from this process, whichever deploy or client sends them:
 * clients wrapped for the same device id share one counter. A device's entry exists only while something
 * holds or waits for a slot, so the map stays as small as the work in progress.
 */
export class DeviceRequestLimit {
  private readonly slots = new Map<string, { inFlight: number; waiting: (() => void)[] }>();

  constructor(private readonly max: number) {}

  /** The same client, each call waiting for one of the device's slots first. */
  wrap(deviceId: string, client: BigIpClient): BigIpClient {
    const limited: Record<string, unknown> = {};
    // Own and prototype methods alike: a client may be a plain object or a class instance (a test's fake).
    for (let o: object | null = client; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
      for (const key of Object.getOwnPropertyNames(o)) {
        if (key === 'constructor' || key in limited) continue;
        const value = (client as unknown as Record<string, unknown>)[key];
        limited[key] =
          typeof value === 'function'
            ? (...args: unknown[]) =>
                this.run(deviceId, () => (value as (...a: unknown[]) => Promise<unknown>).apply(client, args))
            : value;
      }
    }
    return limited as unknown as BigIpClient;
  }

  private async run<T>(deviceId: string, call: () => Promise<T>): Promise<T> {
    await this.acquire(deviceId);
    try {
      return await call();
    } finally {
      this.release(deviceId);
    }
  }

  private acquire(deviceId: string): Promise<void> {
    const slot = this.slots.get(deviceId) ?? { inFlight: 0, waiting: [] };
    this.slots.set(deviceId, slot);
    if (slot.inFlight < this.max) {
      slot.inFlight++;
      return Promise.resolve();
    }
    const queue = slot.waiting;
    return new Promise((resolve) => queue.push(resolve));
  }

  private release(deviceId: string): void {
    const slot = this.slots.get(deviceId);
    if (!slot) return;
    const next = slot.waiting.shift();
    // The slot passes straight to the next waiter, so inFlight never dips and a newcomer cannot overtake it.
    if (next) next();
    else if (--slot.inFlight === 0) this.slots.delete(deviceId);
  }
}
