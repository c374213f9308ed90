import type { CaProfile } from '../../domain/ca-profile.ts';
import type { Patch } from './patch.ts';

export interface ProfileRepository {
  insert(profile: CaProfile): Promise<void>;
  findById(id: string): Promise<CaProfile | null>;
  findByName(name: string): Promise<CaProfile | null>;
  list(): Promise<CaProfile[]>;
  update(id: string, patch: Patch<CaProfile>): Promise<CaProfile>;
}
