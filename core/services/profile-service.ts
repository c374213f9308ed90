import {
  type CaProfile,
  DIRECTORY_ALIASES,
  LOCKED_PROFILE_FIELDS,
  type ProfileSettings,
} from '../domain/ca-profile.ts';
import { generatePrivateKey, type KeySpec } from '../domain/key-spec.ts';
import { type PublicView, publicView } from '../domain/public-view.ts';
import { CoreError, seeList } from '../errors.ts';
import type { DirectoryInfo } from '../ports/acme-gateway.ts';
import { accountOf, type CoreDepsWith, secretAad } from './core-deps.ts';
import { appendAudit } from './audit-trail.ts';

export type ProfileView = PublicView<CaProfile>;

export interface CreateProfileInput {
  name: string;
  /** `production`, `staging` or any directory URL. */
  server: string;
  keySpec: KeySpec;
  contact?: string[];
  acceptTos: boolean;
  eab?: { kid: string; hmacKey: string };
  acmeProfile?: string;
  autoRenew?: boolean;
  renewDaysBefore?: number;
  autoDeploy?: boolean;
  deployTime?: string;
  deployTimeZone?: string;
  renewApproval?: boolean;
  deployApproval?: boolean;
}

export type UpdateProfileInput = Partial<ProfileSettings> &
  Partial<Record<(typeof LOCKED_PROFILE_FIELDS)[number], unknown>>;

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const EMAIL = /^[^\s@:]+@[^\s@]+\.[^\s@]+$/;
const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d$/;

export function resolveDirectoryUrl(server: string): string {
  const alias = DIRECTORY_ALIASES[server.trim().toLowerCase()];
  if (alias) return alias;
  let url: URL;
  try {
    url = new URL(server.trim());
  } catch {
    throw new CoreError('input_invalid', `server "${server}" is neither production, staging nor a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CoreError('input_invalid', `server "${server}" must be an https:// directory URL`);
  }
  return url.toString();
}

/** Checks the settings that stay editable, so create and update apply the same rules. */
export function validateSettings(s: Partial<ProfileSettings>): void {
  for (const c of s.contact ?? []) {
    if (!EMAIL.test(c.replace(/^mailto:/, '')))
      throw new CoreError('input_invalid', `contact "${c}" is not an e-mail address`);
  }
  if (
    s.renewDaysBefore !== undefined &&
    (!Number.isInteger(s.renewDaysBefore) || s.renewDaysBefore < 1 || s.renewDaysBefore > 365)
  ) {
    throw new CoreError(
      'input_invalid',
      `auto-renew days must be a whole number from 1 to 365 (got ${s.renewDaysBefore})`,
    );
  }
  if (s.deployTime !== undefined && !TIME_OF_DAY.test(s.deployTime)) {
    throw new CoreError('input_invalid', `deploy time must be HH:MM on a 24-hour clock (got "${s.deployTime}")`);
  }
  if (s.deployTimeZone !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: s.deployTimeZone });
    } catch {
      throw new CoreError(
        'input_invalid',
        `time zone "${s.deployTimeZone}" is not an IANA time zone (like Europe/Berlin)`,
      );
    }
  }
}

export class ProfileService {
  constructor(private readonly deps: CoreDepsWith<'audit' | 'profiles'>) {}

  /** The seed's *Validate*: what the CA's directory says about itself. */
  async validate(server: string): Promise<DirectoryInfo> {
    return this.deps.acme.directory(resolveDirectoryUrl(server));
  }

  async create(input: CreateProfileInput, actor: string): Promise<ProfileView> {
    const name = input.name.trim();
    if (!PROFILE_NAME.test(name)) {
      throw new CoreError(
        'input_invalid',
        `profile name "${input.name}" must be 1-64 letters, digits, ".", "_" or "-"`,
      );
    }
    const settings: ProfileSettings = {
      contact: (input.contact ?? []).map((c) => c.trim().replace(/^mailto:/, '')).filter(Boolean),
      autoRenew: input.autoRenew ?? true,
      renewDaysBefore: input.renewDaysBefore ?? 7,
      autoDeploy: input.autoDeploy ?? true,
      deployTime: input.deployTime ?? '00:00',
      deployTimeZone: input.deployTimeZone ?? 'UTC',
      acmeProfile: input.acmeProfile ?? null,
      renewApproval: input.renewApproval ?? false,
      deployApproval: input.deployApproval ?? false,
    };
    validateSettings(settings);
    const directoryUrl = resolveDirectoryUrl(input.server);
    if (await this.deps.store.profiles.findByName(name))
      throw new CoreError('conflict', `profile "${name}" already exists`);

    const directory = await this.deps.acme.directory(directoryUrl);
    if (!input.acceptTos) {
      throw new CoreError(
        'tos_not_accepted',
        `the CA's terms of service must be accepted to create an account${directory.termsOfService ? `: read ${directory.termsOfService} and pass --accept-tos` : ' (pass --accept-tos)'}`,
      );
    }
    if (directory.externalAccountRequired && !input.eab) {
      throw new CoreError(
        'input_invalid',
        'this CA requires external account binding: give the EAB key id and HMAC key',
      );
    }
    const offered = Object.keys(directory.profiles);
    if (settings.acmeProfile && offered.length > 0 && !offered.includes(settings.acmeProfile)) {
      throw new CoreError(
        'input_invalid',
        `the CA offers no ACME profile "${settings.acmeProfile}" (it offers ${offered.join(', ')})`,
      );
    }

    const id = this.deps.newId();
    const accountKeyPem = await generatePrivateKey(input.keySpec);
    const accountUrl = await this.deps.acme.createAccount({
      directoryUrl,
      accountKeyPem,
      contact: settings.contact,
      termsOfServiceAgreed: true,
      ...(input.eab ? { eab: input.eab } : {}),
    });
    const now = this.deps.clock.now();
    const profile: CaProfile = {
      id,
      name,
      directoryUrl,
      keySpec: input.keySpec,
      tosAgreed: true,
      tosUrl: directory.termsOfService,
      eabKid: input.eab?.kid ?? null,
      eabHmacKeySealed: input.eab
        ? this.deps.secrets.seal(input.eab.hmacKey, secretAad('profiles', id, 'eab_hmac_key'))
        : null,
      accountKeySealed: this.deps.secrets.seal(accountKeyPem, secretAad('profiles', id, 'account_key')),
      accountUrl,
      ...settings,
      createdAt: now,
      updatedAt: now,
    };
    await this.deps.store.profiles.insert(profile);
    await appendAudit(this.deps.store.audit, 'profile', { id: id, name: name }, actor, 'profile.create', 'ok', {
      directoryUrl,
      keySpec: input.keySpec,
      accountUrl,
    });
    return publicView(profile);
  }

  async get(name: string): Promise<CaProfile> {
    const profile = await this.deps.store.profiles.findByName(name);
    if (!profile) throw new CoreError('not_found', `no profile named "${name}"`, { hint: seeList('profile') });
    return profile;
  }

  async show(name: string): Promise<ProfileView> {
    return publicView(await this.get(name));
  }

  async list(): Promise<ProfileView[]> {
    return (await this.deps.store.profiles.list()).map(publicView);
  }

  async update(name: string, input: UpdateProfileInput, actor: string): Promise<ProfileView> {
    const locked = LOCKED_PROFILE_FIELDS.filter((f) => input[f] !== undefined);
    if (locked.length > 0) {
      throw new CoreError(
        'locked_field',
        `${locked.join(', ')} cannot change once a profile is saved (the ACME account is bound to them); create a new profile instead`,
      );
    }
    const profile = await this.get(name);
    const patch: Partial<ProfileSettings> = {};
    for (const key of [
      'contact',
      'autoRenew',
      'renewDaysBefore',
      'autoDeploy',
      'deployTime',
      'deployTimeZone',
      'acmeProfile',
      'renewApproval',
      'deployApproval',
    ] as const) {
      if (input[key] !== undefined) (patch as Record<string, unknown>)[key] = input[key];
    }
    if (Object.keys(patch).length === 0) throw new CoreError('input_invalid', 'nothing to update');
    validateSettings(patch);
    if (patch.contact) {
      // The CA keeps its own copy of the contact; change it there first so the two never disagree.
      await this.deps.acme.updateContact(accountOf(this.deps, profile), patch.contact);
    }
    const updated = await this.deps.store.profiles.update(profile.id, patch);
    await appendAudit(this.deps.store.audit, 'profile', profile, actor, 'profile.update', 'ok', {
      changed: Object.keys(patch),
    });
    return publicView(updated);
  }
}
