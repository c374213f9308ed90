/**
 * The cross-object checks MCP runs when a change is applied (a single request, or a whole transaction at
 * commit): every client-ssl profile affected by the change must reference objects that exist (404
 * 01020036), be able to read its encrypted keys with the passphrase it holds, and pair each key with its
 * certificate (400 01070317, `reference/bigip-icontrol.md` §3.1). Checking after all commands is what lets a
 * transaction replace a referenced key and certificate together.
 */
import type { SimulatorState } from './state.ts';
import { notFound, tmError, WHAT } from './errors.ts';
import { isEncryptedKeyPem, keyMatchesCertificate, parseCertificates, readPrivateKey } from './pem-facts.ts';

export const touchedKey = (kind: 'cert' | 'key' | 'profile', fullPath: string): string => `${kind}:${fullPath}`;

function affected(state: SimulatorState, touched: Set<string>): string[] {
  const out: string[] = [];
  for (const [fullPath, profile] of state.profiles) {
    const hit =
      touched.has(touchedKey('profile', fullPath)) ||
      profile.certKeyChain.some(
        (e) =>
          touched.has(touchedKey('cert', e.cert)) ||
          touched.has(touchedKey('key', e.key)) ||
          touched.has(touchedKey('cert', e.chain)),
      );
    if (hit) out.push(fullPath);
  }
  return out;
}

/** Throws the first problem of any profile the change touched, directly or through a cert or key it uses. */
export function checkProfiles(state: SimulatorState, touched: Set<string>): void {
  for (const fullPath of affected(state, touched)) {
    const profile = state.profiles.get(fullPath)!;
    if (profile.defaultsFrom !== null && !state.profiles.has(profile.defaultsFrom)) {
      throw notFound(WHAT.profile, profile.defaultsFrom);
    }
    for (const entry of profile.certKeyChain) {
      const cert = state.certs.get(entry.cert);
      if (!cert) throw notFound(WHAT.cert, entry.cert);
      const key = state.keys.get(entry.key);
      if (!key) throw notFound(WHAT.key, entry.key);
      if (entry.chain !== 'none' && !state.certs.has(entry.chain)) throw notFound(WHAT.cert, entry.chain);

      const encrypted = key.securityType === 'password' || isEncryptedKeyPem(key.pem);
      let privateKey: ReturnType<typeof readPrivateKey>;
      try {
        privateKey = readPrivateKey(key.pem, encrypted ? entry.passphrase : undefined);
      } catch {
        const why = encrypted
          ? entry.passphrase
            ? 'the passphrase is wrong'
            : 'the key is encrypted and no passphrase is configured'
          : 'the key cannot be read';
        throw tmError(400, `01070313:3: Error reading key PEM file ${entry.key} for profile ${fullPath}: ${why}`);
      }
      let leaf: ReturnType<typeof parseCertificates>[number];
      try {
        leaf = parseCertificates(cert.pem)[0]!;
      } catch {
        throw tmError(400, `01070712:3: Certificate/Key has unknown format or security type (${entry.cert}).`);
      }
      if (!keyMatchesCertificate(privateKey, leaf)) {
        throw tmError(400, `01070317:3: profile ${fullPath}'s key and certificate do not match`);
      }
    }
  }
}

/** Profiles whose certKeyChain references `fullPath` as a cert, key or chain. */
export function profilesUsing(state: SimulatorState, kind: 'cert' | 'key', fullPath: string): string[] {
  const out: string[] = [];
  for (const [profilePath, profile] of state.profiles) {
    const uses = profile.certKeyChain.some((e) =>
      kind === 'key' ? e.key === fullPath : e.cert === fullPath || e.chain === fullPath,
    );
    if (uses) out.push(profilePath);
  }
  return out;
}
