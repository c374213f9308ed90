/**
 * Throwaway certificates the simulator needs: the management interface's HTTPS certificate (EC P-256, fresh
 * per simulator, SANs 127.0.0.1 and localhost) and the factory `/Common/default.crt` + `default.key` pair
 * (RSA 2048 like a real box; generated once per process because RSA generation is slow and a 50-device
 * benchmark starts many simulators).
 */
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

export interface PemPair {
  certPem: string;
  keyPem: string;
}

const DAY_MS = 86_400_000;

function randomSerial(bytes: number): string {
  const serial = randomBytes(bytes);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, no leading zero byte
  return serial.toString('hex');
}

async function pkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** The HTTPS certificate of the simulated management interface. */
export async function managementCertificate(): Promise<PemPair> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(16),
      name: 'CN=localhost, O=bigip-simulator',
      keys,
      signingAlgorithm: alg,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 30 * DAY_MS),
      extensions: [
        new x509.SubjectAlternativeNameExtension([
          { type: 'ip', value: '127.0.0.1' },
          { type: 'dns', value: 'localhost' },
        ]),
      ],
    },
    webcrypto,
  );
  return { certPem: cert.toString('pem'), keyPem: await pkcs8Pem(keys.privateKey) };
}

let defaultPair: Promise<PemPair> | null = null;

/** The factory default.crt/default.key: self-signed RSA 2048, a 32-bit serial, ten years, like TMOS makes it. */
export function factoryDefaultPair(): Promise<PemPair> {
  defaultPair ??= (async () => {
    const alg = {
      name: 'RSASSA-PKCS1-v1_5',
      hash: 'SHA-256',
      publicExponent: new Uint8Array([1, 0, 1]),
      modulusLength: 2048,
    };
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const name = 'C=--, ST=WA, L=Seattle, O=MyCompany, OU=IT, CN=localhost.localdomain, E=root@localhost.localdomain';
    const cert = await x509.X509CertificateGenerator.createSelfSigned(
      {
        serialNumber: randomSerial(4),
        name,
        keys,
        signingAlgorithm: alg,
        notBefore: new Date(Date.now() - DAY_MS),
        notAfter: new Date(Date.now() + 3650 * DAY_MS),
      },
      webcrypto,
    );
    return { certPem: cert.toString('pem'), keyPem: await pkcs8Pem(keys.privateKey) };
  })();
  return defaultPair;
}
