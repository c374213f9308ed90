import type { Binding } from '../../domain/binding.ts';
import type { Patch } from './patch.ts';

export interface BindingRepository {
  /** A second binding of the same device and profile is a conflict. */
  insert(binding: Binding): Promise<void>;
  findById(id: string): Promise<Binding | null>;
  list(filter?: { certificateId?: string; deviceId?: string }): Promise<Binding[]>;
  update(id: string, patch: Patch<Binding>): Promise<Binding>;
  remove(id: string): Promise<void>;
}
