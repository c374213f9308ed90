import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { parseCertificate } from '../../core/domain/certificate-facts.ts';
import type { ManagedCertificate } from '../../core/domain/managed-certificate.ts';
import type { Store } from '../../core/ports/store.ts';
import { secretAad } from '../../core/services/core-deps.ts';
import type { SecretBox } from '../../core/secrets/secret-box.ts';
import { makeCertificate, makeProfile } from '../fixtures/builders.ts';

/**
 * A throwaway test CA (root → intermediate) that issues leaf certificates, so deploy tests have real,
 * matching key/chain material without a CA server. Generated per run; never written to disk.
 */
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { ...EC, hash: 'SHA-256' } as const;

interface Signer {
  subject: string;
  keys: webcrypto.CryptoKeyPair;
}

let ca: Promise<{ root: Signer; intermediate: Signer & { pem: string } }> | null = null;

async function keyPair(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

function testCa() {
  ca ??= (async () => {
    const root: Signer = { subject: 'CN=bigip-acme test root', keys: await keyPair() };
    const intermediateKeys = await keyPair();
    const now = Date.now();
    const pem = (
      await x509.X509CertificateGenerator.create({
        serialNumber: '02',
        subject: 'CN=bigip-acme test intermediate',
        issuer: root.subject,
        notBefore: new Date(now - 86_400_000),
        notAfter: new Date(now + 3 * 365 * 86_400_000),
        publicKey: intermediateKeys.publicKey,
        signingKey: root.keys.privateKey,
        signingAlgorithm: SIGN,
        extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
      })
    ).toString('pem');
    return { root, intermediate: { subject: 'CN=bigip-acme test intermediate', keys: intermediateKeys, pem } };
  })();
  return ca;
}

let serialCounter = 0x1000;

/** A leaf for `names` signed by the test intermediate: PKCS#8 key PEM and leaf + intermediate chain PEM. */
export async function issueTestCertificate(
  names: string[],
  opts: { notAfter?: Date; serial?: string } = {},
): Promise<{ keyPem: string; chainPem: string }> {
  const { intermediate } = await testCa();
  const keys = await keyPair();
  const serial =
    opts.serial ??
    `7a${(serialCounter++).toString(16).padStart(6, '0')}${Math.floor(Math.random() * 0xffffff)
      .toString(16)
      .padStart(6, '0')}`;
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: `CN=${names[0]}`,
    issuer: intermediate.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: opts.notAfter ?? new Date(Date.now() + 90 * 86_400_000),
    publicKey: keys.publicKey,
    signingKey: intermediate.keys.privateKey,
    signingAlgorithm: SIGN,
    extensions: [new x509.SubjectAlternativeNameExtension(names.map((n) => ({ type: 'dns' as const, value: n })))],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
    chainPem: `${leaf.toString('pem')}\n${intermediate.pem}\n`,
  };
}

/** Stores an issued certificate (and its profile) the way the certificate service leaves one. */
export async function seedIssuedCertificate(
  store: Store,
  secrets: SecretBox,
  opts: { name?: string; names?: string[]; profileId?: string; partition?: string } = {},
): Promise<ManagedCertificate> {
  const names = opts.names ?? ['www.example.com'];
  let profileId = opts.profileId;
  if (!profileId) {
    const profile = makeProfile();
    await store.profiles.insert(profile);
    profileId = profile.id;
  }
  const cert = makeCertificate(profileId, {
    name: opts.name ?? names[0]!,
    commonName: names[0]!,
    sans: names.slice(1),
    keySpec: 'ec-p256',
    partition: opts.partition ?? 'Common',
  });
  await store.certificates.insert(cert);
  return reissueTestCertificate(store, secrets, cert);
}

/** Gives a stored certificate a fresh key and chain, as a renewal would. */
export async function reissueTestCertificate(
  store: Store,
  secrets: SecretBox,
  cert: ManagedCertificate,
  opts: { notAfter?: Date } = {},
): Promise<ManagedCertificate> {
  const { keyPem, chainPem } = await issueTestCertificate([cert.commonName, ...cert.sans], opts);
  const facts = parseCertificate(chainPem);
  return store.certificates.update(cert.id, {
    state: 'issued',
    keySealed: secrets.seal(keyPem, secretAad('certificates', cert.id, 'key')),
    chainPem,
    serial: facts.serial,
    notBefore: facts.notBefore,
    notAfter: facts.notAfter,
    fingerprintSha256: facts.fingerprintSha256,
    subject: facts.subject,
    issuer: facts.issuer,
    issuedAt: new Date(),
  });
}
