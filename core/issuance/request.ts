import type { CaProfile } from '../domain/ca-profile.ts';
import { createCsr } from '../domain/csr.ts';
import { normalizeDomainName } from '../domain/domain-name.ts';
import { describeKeySpec, generatePrivateKey, type KeySpec } from '../domain/key-spec.ts';
import {
  certificateNames,
  defaultObjectName,
  type ManagedCertificate,
  OBJECT_NAME_PATTERN,
} from '../domain/managed-certificate.ts';
import { requestedPartition } from '../domain/partition-name.ts';
import { keyPassphraseProblem } from '../domain/validation/key-passphrase.ts';
import { CoreError, isCoreError, runCommand } from '../errors.ts';
import { type CoreDeps, secretAad } from '../services/core-deps.ts';
import { freshOrder, renewalBookkeepingCleared } from './work-record.ts';

/** An issuance request as the edges send it; validated whole by {@link validateRequest} before anything is written. */
export interface RequestCertificateInput {
  profile: string;
  commonName: string;
  sans?: string[];
  partition?: string;
  /** Must equal the profile's key properties when given. */
  keySpec?: KeySpec;
  passphrase?: string;
  /** BIG-IP object name; derived from the common name when absent. */
  name?: string;
}

export interface RequestOptions {
  /**
   * Store the request and ask an approver instead of ordering (requests from Slack): `resume` orders only
   * once the issuance approval is granted.
   */
  approval?: boolean;
  /**
   * More for the approver to see in the issuance approval, and for the approval's use case to act on (e.g.
   * `deployOnIssue` with where it will serve). Never a secret.
   */
  summary?: Record<string, unknown>;
}

/** A request's names and object, normalized and checked against the profile and the store. */
export interface ValidRequest {
  partition: string;
  commonName: string;
  sans: string[];
  name: string;
}

type RequestDeps = Pick<CoreDeps, 'store'>;

export async function validateRequest(
  deps: RequestDeps,
  profile: CaProfile,
  input: RequestCertificateInput,
): Promise<ValidRequest> {
  const partition = requestedPartition(input.partition);
  if (input.keySpec && input.keySpec !== profile.keySpec) {
    throw new CoreError(
      'key_mismatch',
      `key ${describeKeySpec(input.keySpec)} does not match profile "${profile.name}", which uses ${describeKeySpec(profile.keySpec)}`,
    );
  }
  const commonName = await profileDomain(deps, profile, input.commonName);
  const sans: string[] = [];
  for (const san of input.sans ?? []) {
    const name = await profileDomain(deps, profile, san);
    if (name !== commonName && !sans.includes(name)) sans.push(name);
  }
  const name = (input.name ?? defaultObjectName(commonName)).trim();
  if (!OBJECT_NAME_PATTERN.test(name)) {
    throw new CoreError(
      'input_invalid',
      `object name "${name}" must start with a letter and use only letters, digits, ".", "_" or "-"`,
    );
  }
  const passphraseProblem = keyPassphraseProblem(input.passphrase);
  if (passphraseProblem) {
    throw new CoreError('input_invalid', passphraseProblem);
  }
  // A taken name is found by the insert itself (the unique index): see insertRequest.
  return { partition, commonName, sans, name };
}

/**
 * Stores a validated request. The unique name index is the check that a name is free: asking first would cost a
 * statement on every request and still race with another request for the same name.
 */
export async function insertRequest(deps: RequestDeps, cert: ManagedCertificate): Promise<void> {
  try {
    await deps.store.certificates.insert(cert);
  } catch (err) {
    if (isCoreError(err) && err.code === 'conflict') {
      throw new CoreError('conflict', `certificate "${cert.name}" already exists`, {
        hint: runCommand('resume it with', ['cert', 'resume', cert.name]),
      });
    }
    throw err;
  }
}

/** A name the certificate may carry: one of this profile's domains, never another profile's. */
async function profileDomain(deps: RequestDeps, profile: CaProfile, input: string): Promise<string> {
  const wildcard = input.trim().startsWith('*.');
  const name = normalizeDomainName(input, wildcard ? 'dns-01' : 'http-01');
  if (await deps.store.domains.find(profile.id, name)) return name;
  const elsewhere = await deps.store.domains.findByName(name);
  if (elsewhere.length > 0) {
    throw new CoreError(
      'domain_foreign',
      `"${name}" belongs to another profile, not "${profile.name}"; add it to "${profile.name}" first`,
    );
  }
  throw new CoreError('domain_foreign', `"${name}" is not a domain of profile "${profile.name}"`, {
    hint: runCommand('add it with', ['domain', 'add', '--profile', profile.name, name]),
  });
}

/** The row a valid request is stored as: `requested`, no key, no order; the passphrase sealed to its row. */
export function newCertificate(
  deps: Pick<CoreDeps, 'secrets' | 'clock' | 'newId'>,
  profile: CaProfile,
  request: ValidRequest,
  passphrase: string | undefined,
  actor: string,
): ManagedCertificate {
  const id = deps.newId();
  const now = deps.clock.now();
  return {
    id,
    name: request.name,
    profileId: profile.id,
    partition: request.partition,
    commonName: request.commonName,
    sans: request.sans,
    keySpec: profile.keySpec,
    keySealed: null,
    passphraseSealed:
      passphrase === undefined ? null : deps.secrets.seal(passphrase, secretAad('certificates', id, 'passphrase')),
    csrPem: null,
    state: 'requested',
    ...freshOrder(),
    problem: null,
    chainPem: null,
    serial: null,
    notBefore: null,
    notAfter: null,
    fingerprintSha256: null,
    subject: null,
    issuer: null,
    issuedAt: null,
    requestedBy: actor,
    renewAt: null,
    renewReason: null,
    ...renewalBookkeepingCleared(),
    renewalState: null,
    renewalKeySealed: null,
    renewalCsrPem: null,
    lastRenewalError: null,
    lastRenewalAttemptAt: null,
    revokedSerial: null,
    revokedAt: null,
    revocationReason: null,
    revokedBy: null,
    pendingRevocation: null,
    pendingRevocationKeySealed: null,
    createdAt: now,
    updatedAt: now,
  };
}

/** What an approver sees of an issuance request: server-side state only, never the passphrase or key. */
export function issuanceSummary(cert: ManagedCertificate, profile: CaProfile): Record<string, unknown> {
  return {
    names: certificateNames(cert),
    profile: profile.name,
    partition: cert.partition,
    keySpec: cert.keySpec,
    objectName: cert.name,
  };
}

/** The key (sealed to its row) and the CSR for the certificate's names, made before any order exists. */
export async function createKeyAndCsr(
  deps: Pick<CoreDeps, 'secrets'>,
  cert: Pick<ManagedCertificate, 'id' | 'keySpec' | 'commonName' | 'sans'>,
): Promise<{ keySealed: string; csrPem: string }> {
  const keyPem = await generatePrivateKey(cert.keySpec);
  const csrPem = await createCsr(keyPem, cert.commonName, cert.sans);
  return { keySealed: deps.secrets.seal(keyPem, secretAad('certificates', cert.id, 'key')), csrPem };
}
