import type { CaProfile } from '../../domain/ca-profile.ts';
import type { Patch } from './patch.ts';

export interface ProfileRepository {
  insert(profile: CaProfile): Promise<void>;
  findById(id: string): Promise<CaProfile | null>;
  findByName(name: string): Promise<CaProfile | null>;
  list(): Promise<CaProfile[]>;
  update(id: string, patch: Patch<CaProfile>): Promise<CaProfile>;
  /**
   * Deletes the profile with its domains (and their authorizations) in one transaction; with
   * `withCertificates` its certificates too (and what `CertificateRepository.remove` takes with each). Without
   * it, a profile that still has a certificate is a `conflict` and nothing is deleted. `not_found` when missing.
   */
  remove(id: string, opts: { withCertificates: boolean }): Promise<void>;
}
