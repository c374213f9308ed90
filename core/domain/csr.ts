import { createPrivateKey } from 'node:crypto';
import acme from 'acme-client';
import { CoreError } from '../errors.ts';

// X.520 ub-common-name; CAs refuse a longer CN, but the name is still valid as a SAN.
const MAX_COMMON_NAME_LENGTH = 64;

/**
 * A PEM CSR for `commonName` plus `altNames`. The SAN list always contains the common name first (CAs issue
 * for the SANs, not the CN) and no duplicates. A common name longer than 64 characters is left out of the
 * subject and kept only as a SAN. Names are used as given: normalize them first.
 */
export async function createCsr(keyPem: string, commonName: string, altNames: string[]): Promise<string> {
  if (commonName === '') throw new CoreError('input_invalid', 'a CSR needs a common name');
  const names = [...new Set([commonName, ...altNames])];
  const pkcs8 = toPkcs8(keyPem);
  try {
    const [, csr] = await acme.crypto.createCsr(
      { ...(commonName.length <= MAX_COMMON_NAME_LENGTH ? { commonName } : {}), altNames: names },
      pkcs8,
    );
    return csr.toString();
  } catch (err) {
    // acme-client signs only with RSA and ECDSA keys; anything else fails here.
    const reason = err instanceof Error ? err.message : String(err);
    throw new CoreError('input_invalid', `cannot create a CSR with this key: ${reason}`, { cause: err });
  }
}

// acme-client imports the key through WebCrypto, which takes only PKCS#8; keys from BIG-IP or openssl are
// often PKCS#1 ("BEGIN RSA PRIVATE KEY") or SEC1 ("BEGIN EC PRIVATE KEY").
function toPkcs8(keyPem: string): string {
  // Our own keys are PKCS#8 already (key-spec.ts); acme-client parses the PEM itself, so a second parse is waste.
  if (/^-----BEGIN PRIVATE KEY-----\r?\n/.test(keyPem.trimStart())) return keyPem;
  try {
    return createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'pem' }).toString();
  } catch (err) {
    throw new CoreError('input_invalid', 'not a readable unencrypted private key PEM', { cause: err });
  }
}
