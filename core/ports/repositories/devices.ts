import type { Device } from '../../domain/device.ts';
import type { Patch } from './patch.ts';

export interface DeviceRepository {
  insert(device: Device): Promise<void>;
  findById(id: string): Promise<Device | null>;
  findByName(name: string): Promise<Device | null>;
  list(): Promise<Device[]>;
  update(id: string, patch: Patch<Device>): Promise<Device>;
  /** Removes the device; a device that still has bindings is a conflict. */
  remove(id: string): Promise<void>;
}
