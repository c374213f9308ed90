import { describe, expect, it } from 'vitest';
import { deployConcurrency, MAX_DEVICES_AT_ONCE } from '../../core/domain/deploy-fan-out.ts';
import type { BigIpClient } from '../../core/ports/bigip-client.ts';
import { DeviceRequestLimit } from '../../core/deploy/device-request-limit.ts';

describe('deployConcurrency', () => {
  it.each([
    { devices: 1, requested: undefined, expected: 1 },
    { devices: 8, requested: undefined, expected: 8 },
    { devices: 50, requested: undefined, expected: 50 },
    { devices: MAX_DEVICES_AT_ONCE, requested: undefined, expected: MAX_DEVICES_AT_ONCE },
    { devices: 500, requested: undefined, expected: MAX_DEVICES_AT_ONCE },
    { devices: 0, requested: undefined, expected: 1 },
    { devices: 50, requested: 8, expected: 8 },
    { devices: 50, requested: 200, expected: 200 },
    { devices: 50, requested: 0, expected: 1 },
  ])('$devices devices, asked for $requested → $expected at once', ({ devices, requested, expected }) => {
    expect(deployConcurrency(devices, requested)).toBe(expected);
  });
});

describe('DeviceRequestLimit', () => {
  /** A client whose every call takes a few ms and records how many calls overlapped, per device. */
  function countingClient(counter: { now: number; max: number }): BigIpClient {
    const call = async () => {
      counter.max = Math.max(counter.max, ++counter.now);
      await new Promise((r) => setTimeout(r, 5));
      counter.now--;
      return null;
    };
    return { getCert: call, getKey: call, removeUpload: call } as unknown as BigIpClient;
  }

  it('keeps each device to its limit across clients, and lets other devices run alongside', async () => {
    const limit = new DeviceRequestLimit(2);
    const a = { now: 0, max: 0 };
    const b = { now: 0, max: 0 };
    const a1 = limit.wrap('a', countingClient(a));
    const a2 = limit.wrap('a', countingClient(a));
    const b1 = limit.wrap('b', countingClient(b));
    await Promise.all([
      ...Array.from({ length: 5 }, () => a1.getCert('/Common/x')),
      ...Array.from({ length: 5 }, () => a2.getKey('/Common/x')),
      ...Array.from({ length: 5 }, () => b1.getCert('/Common/x')),
    ]);
    expect(a.max).toBe(2);
    expect(b.max).toBe(2);
  });

  it('frees the slot of a call that failed', async () => {
    const limit = new DeviceRequestLimit(1);
    const failing = limit.wrap('a', {
      getCert: async () => {
        throw new Error('down');
      },
    } as unknown as BigIpClient);
    await expect(failing.getCert('/Common/x')).rejects.toThrow('down');
    await expect(failing.getCert('/Common/x')).rejects.toThrow('down');
  });
});
