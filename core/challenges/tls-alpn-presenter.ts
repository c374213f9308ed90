import { presentedTlsAlpnSource } from '../domain/tls-alpn-source.ts';
import type { Store } from '../ports/store.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { secretAad } from '../services/core-deps.ts';

/** The certificate and (opened) key a TLS-ALPN-01 handshake presents for a name. */
export interface TlsAlpnMaterial {
  certPem: string;
  keyPem: string;
}

/**
 * What the TLS-ALPN-01 listener presents for a name: the core's pending challenge or the hook's entry, chosen
 * by the one rule the challenge-hook also applies when it accepts an entry (core/domain/tls-alpn-source.ts).
 * The listener only asks; null means refuse the handshake.
 */
export function tlsAlpnPresenter(
  store: Pick<Store, 'authorizations' | 'hookChallenges'>,
  secrets: Pick<SecretBox, 'open'>,
  now: () => Date,
): (servername: string) => Promise<TlsAlpnMaterial | null> {
  return async (servername) => {
    const [own, hooked] = await Promise.all([
      store.authorizations.tlsAlpnMaterial(servername),
      store.hookChallenges.tlsMaterial(servername),
    ]);
    const source = presentedTlsAlpnSource(own, hooked, now());
    if (source === 'core' && own) {
      return {
        certPem: own.certPem,
        keyPem: secrets.open(own.keySealed, secretAad('authorizations', own.id, 'tls_key')),
      };
    }
    if (source === 'hook' && hooked) {
      return {
        certPem: hooked.certPem,
        keyPem: secrets.open(hooked.keySealed, secretAad('hook_challenges', hooked.id, 'key')),
      };
    }
    return null;
  };
}
