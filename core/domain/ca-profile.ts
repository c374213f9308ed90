import type { KeySpec } from './key-spec.ts';

/** Let's Encrypt's two directories, by the names operators use for them. */
export const DIRECTORY_ALIASES: Readonly<Record<string, string>> = {
  production: 'https://acme-v02.api.letsencrypt.org/directory',
  staging: 'https://acme-staging-v02.api.letsencrypt.org/directory',
};

/**
 * A CA management profile: how to reach one ACME CA with one account. Name, server, key properties and
 * terms-of-service acceptance are locked once saved, because the ACME account is bound to them.
 */
export interface CaProfile {
  id: string;
  name: string;
  directoryUrl: string;
  keySpec: KeySpec;
  contact: string[];
  tosAgreed: boolean;
  tosUrl: string | null;
  eabKid: string | null;
  eabHmacKeySealed: string | null;
  accountKeySealed: string;
  accountUrl: string;
  /** ACME profile name to select on newOrder (e.g. `tlsserver`), when the CA offers profiles. */
  acmeProfile: string | null;
  autoRenew: boolean;
  renewDaysBefore: number;
  autoDeploy: boolean;
  /** HH:MM, 24-hour, in deployTimeZone. */
  deployTime: string;
  deployTimeZone: string;
  /** Semi-automatic mode: a renewal waits for an approval. */
  renewApproval: boolean;
  /** Semi-automatic mode: an automatic deploy waits for an approval. */
  deployApproval: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export const LOCKED_PROFILE_FIELDS = ['name', 'directoryUrl', 'keySpec', 'tosAgreed'] as const;

export type ProfileSettings = Pick<
  CaProfile,
  | 'contact'
  | 'autoRenew'
  | 'renewDaysBefore'
  | 'autoDeploy'
  | 'deployTime'
  | 'deployTimeZone'
  | 'acmeProfile'
  | 'renewApproval'
  | 'deployApproval'
>;
