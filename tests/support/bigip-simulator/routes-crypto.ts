/**
 * Keys and certificates (`reference/bigip-icontrol.md` §3): `sys crypto key|cert` install from an uploaded
 * file (overwrite allowed; an encrypted key with `securityType: password` + `passphrase`), the `sys file
 * ssl-cert|ssl-key` objects (GET with the facts computed from the PEM, POST create with `sourcePath`, PUT/PATCH
 * `sourcePath`, DELETE refused while a profile uses the object) and the quirky `sys crypto` collection reads.
 * The profile key/certificate match is checked after the write by `consistency.ts`.
 */
import { type CertObject, type KeyObject, dropMeta, metaOf, touchMeta } from './state.ts';
import { empty, type OpContext, ok, optionalString, type Reply, type RouteDef, type SimCore } from './context.ts';
import { alreadyExists, badValue, notFound, tmError, WHAT } from './errors.ts';
import {
  collection,
  DOWNLOADS_DIR,
  fullPathFromBody,
  fullPathFromSegment,
  objectHeader,
  splitFullPath,
} from './paths.ts';
import {
  certFileFacts,
  isEncryptedKeyPem,
  keyFileFacts,
  looksLikePrivateKey,
  parseCertificates,
  readPrivateKey,
} from './pem-facts.ts';
import { profilesUsing, touchedKey } from './consistency.ts';

type Kind = 'cert' | 'key';

const FILE_COLLECTION: Record<Kind, string> = { cert: '/mgmt/tm/sys/file/ssl-cert', key: '/mgmt/tm/sys/file/ssl-key' };
const CRYPTO_COLLECTION: Record<Kind, string> = { cert: '/mgmt/tm/sys/crypto/cert', key: '/mgmt/tm/sys/crypto/key' };
const FILE_KIND: Record<Kind, string> = { cert: 'tm:sys:file:ssl-cert:ssl-cert', key: 'tm:sys:file:ssl-key:ssl-key' };
const CRYPTO_KIND: Record<Kind, string> = { cert: 'tm:sys:crypto:cert:cert', key: 'tm:sys:crypto:key:key' };

function unknownFormat(fullPath: string) {
  return badValue(`Certificate/Key has unknown format or security type (${fullPath}).`);
}

/** Validates a key file as install would; an encrypted one needs its passphrase. */
export function acceptKey(fullPath: string, pem: string, passphrase: string | undefined): KeyObject {
  if (!looksLikePrivateKey(pem)) throw unknownFormat(fullPath);
  if (isEncryptedKeyPem(pem)) {
    if (passphrase === undefined || passphrase === '') {
      throw badValue(
        `Key file for (${fullPath}) is encrypted: securityType "password" and its passphrase are required.`,
      );
    }
    try {
      readPrivateKey(pem, passphrase);
    } catch {
      throw badValue(`Key file for (${fullPath}) could not be decrypted with the passphrase given (bad decrypt).`);
    }
    return { pem, securityType: 'password', passphrase };
  }
  try {
    readPrivateKey(pem);
  } catch {
    throw unknownFormat(fullPath);
  }
  return { pem, securityType: 'normal' };
}

export function acceptCert(fullPath: string, pem: string): CertObject {
  try {
    parseCertificates(pem);
  } catch {
    throw unknownFormat(fullPath);
  }
  return { pem };
}

export function cryptoRoutes(core: SimCore): RouteDef[] {
  const { state } = core;
  const mapOf = (kind: Kind): Map<string, CertObject | KeyObject> => (kind === 'cert' ? state.certs : state.keys);
  const what = (kind: Kind) => (kind === 'cert' ? WHAT.cert : WHAT.key);

  function localFile(path: unknown, kind: Kind, fullPath: string): string {
    if (typeof path !== 'string' || path === '')
      throw badValue(`A local file is required to install ${what(kind)} (${fullPath}).`);
    const name = path.startsWith(DOWNLOADS_DIR) ? path.slice(DOWNLOADS_DIR.length) : null;
    const content = name === null ? undefined : state.uploads.get(name);
    if (content === undefined)
      throw badValue(`Values (${path}) specified for ${what(kind)} (${fullPath}): file not found.`);
    return content.toString('utf8');
  }

  function sourceFile(sourcePath: unknown, kind: Kind, fullPath: string): string {
    if (typeof sourcePath !== 'string' || !sourcePath.startsWith('file://')) {
      throw badValue(
        `Values (${String(sourcePath)}) specified for ${what(kind)} (${fullPath}): sourcePath must be a file:// URL.`,
      );
    }
    return localFile(sourcePath.slice('file://'.length), kind, fullPath);
  }

  function store(ctx: OpContext, kind: Kind, fullPath: string, object: CertObject | KeyObject): void {
    if (kind === 'cert') state.certs.set(fullPath, object as CertObject);
    else state.keys.set(fullPath, object as KeyObject);
    touchMeta(state, kind, fullPath, core.now());
    ctx.touched.add(touchedKey(kind, fullPath));
  }

  function fileView(kind: Kind, fullPath: string): Record<string, unknown> {
    const object = mapOf(kind).get(fullPath)!;
    const meta = metaOf(state, kind, fullPath, core.startedAt);
    const { partition, name } = splitFullPath(fullPath);
    const dir = kind === 'cert' ? 'certificate_d' : 'certificate_key_d';
    const key = kind === 'key' ? (object as KeyObject) : null;
    let facts: Record<string, unknown>;
    try {
      facts = key ? keyFileFacts(key.pem, key.passphrase) : certFileFacts(object.pem);
    } catch {
      facts = {};
    }
    const header = objectHeader(
      `${FILE_KIND[kind]}state`,
      FILE_COLLECTION[kind],
      fullPath,
      meta.generation,
      core.config.version,
    );
    return {
      ...header,
      ...facts,
      ...(facts['isBundle'] === 'true'
        ? {
            bundleCertificatesReference: {
              link: `${String(header['selfLink']).replace('?', '/bundle-certificates?')}`,
              isSubcollection: true,
            },
          }
        : {}),
      createTime: meta.createTime,
      createdBy: core.config.username,
      lastUpdateTime: meta.lastUpdateTime,
      mode: kind === 'cert' ? 33188 : 33184,
      revision: meta.revision,
      ...(key ? { securityType: key.securityType } : {}),
      ...(object.sourcePath ? { sourcePath: object.sourcePath } : {}),
      systemPath: `/config/filestore/files_d/${partition}_d/${dir}/:${partition}:${name}_${meta.generation}_${meta.revision}`,
      updatedBy: core.config.username,
    };
  }

  /** `sys crypto` answers: full-path `name`, string `keySize` (genieparser 14.1.2.1 fixture). */
  function cryptoView(kind: Kind, fullPath: string): Record<string, unknown> {
    const object = mapOf(kind).get(fullPath)!;
    const meta = metaOf(state, kind, fullPath, core.startedAt);
    const header = objectHeader(
      `${CRYPTO_KIND[kind]}state`,
      CRYPTO_COLLECTION[kind],
      fullPath,
      meta.generation,
      core.config.version,
    );
    let extra: Record<string, unknown> = {};
    try {
      if (kind === 'cert') {
        const f = certFileFacts(object.pem);
        extra = {
          expiration: f['expirationString'],
          fingerprint: f['fingerprint'],
          issuer: f['issuer'],
          keySize: String(f['certificateKeySize']),
          keyType: f['keyType'],
          serialNumber: f['serialNumber'],
          subject: f['subject'],
        };
      } else {
        const key = object as KeyObject;
        const f = keyFileFacts(key.pem, key.passphrase);
        extra = { keySize: String(f['keySize']), keyType: f['keyType'], securityType: key.securityType };
      }
    } catch {
      extra = {};
    }
    return { ...header, name: fullPath, ...extra };
  }

  function getOne(kind: Kind, view: (kind: Kind, fullPath: string) => Record<string, unknown>) {
    return (ctx: OpContext): Reply => {
      const fullPath = fullPathFromSegment(ctx.params[0]!);
      if (!mapOf(kind).has(fullPath)) throw notFound(what(kind), fullPath);
      return ok(view(kind, fullPath));
    };
  }

  function list(
    kind: Kind,
    collectionPath: string,
    kindName: string,
    view: (kind: Kind, fullPath: string) => Record<string, unknown>,
  ) {
    return (): Reply =>
      ok(
        collection(
          `${kindName}collectionstate`,
          collectionPath,
          core.config.version,
          [...mapOf(kind).keys()].map((p) => view(kind, p)),
        ),
      );
  }

  function remove(kind: Kind) {
    return (ctx: OpContext): Reply => {
      const fullPath = fullPathFromSegment(ctx.params[0]!);
      if (!mapOf(kind).has(fullPath)) throw notFound(what(kind), fullPath);
      const users = profilesUsing(state, kind, fullPath);
      if (users.length > 0) {
        throw tmError(
          400,
          `01071349:3: The ${what(kind)} (${fullPath}) cannot be deleted because it is in use by a ClientSSL Profile (${users[0]}).`,
        );
      }
      mapOf(kind).delete(fullPath);
      dropMeta(state, kind, fullPath);
      return empty();
    };
  }

  function install(kind: Kind) {
    return (ctx: OpContext): Reply => {
      const { body } = ctx;
      if (body['command'] !== 'install') {
        throw tmError(
          400,
          `01070734:3: Configuration error: only "command":"install" is modelled for ${CRYPTO_COLLECTION[kind]}`,
        );
      }
      const fullPath = fullPathFromBody(body);
      const file = body['from-local-file'];
      const pem = localFile(file, kind, fullPath);
      const object =
        kind === 'key' ? acceptKey(fullPath, pem, optionalString(body, 'passphrase')) : acceptCert(fullPath, pem);
      store(ctx, kind, fullPath, object);
      return ok({
        kind: `tm:sys:crypto:${kind}:installstate`,
        command: 'install',
        name: fullPath,
        'from-local-file': file,
        ...(kind === 'key' ? { securityType: (object as KeyObject).securityType } : {}),
      });
    };
  }

  function createFile(kind: Kind) {
    return (ctx: OpContext): Reply => {
      const fullPath = fullPathFromBody(ctx.body);
      if (mapOf(kind).has(fullPath)) throw alreadyExists(what(kind), fullPath);
      const sourcePath = ctx.body['sourcePath'];
      const pem = sourceFile(sourcePath, kind, fullPath);
      const object =
        kind === 'key' ? acceptKey(fullPath, pem, optionalString(ctx.body, 'passphrase')) : acceptCert(fullPath, pem);
      store(ctx, kind, fullPath, { ...object, sourcePath: String(sourcePath) });
      return ok(fileView(kind, fullPath));
    };
  }

  function updateFile(kind: Kind) {
    return (ctx: OpContext): Reply => {
      const fullPath = fullPathFromSegment(ctx.params[0]!);
      const existing = mapOf(kind).get(fullPath);
      if (!existing) throw notFound(what(kind), fullPath);
      const sourcePath = ctx.body['sourcePath'];
      if (sourcePath !== undefined) {
        const pem = sourceFile(sourcePath, kind, fullPath);
        const passphrase = optionalString(ctx.body, 'passphrase') ?? (existing as KeyObject).passphrase;
        const object = kind === 'key' ? acceptKey(fullPath, pem, passphrase) : acceptCert(fullPath, pem);
        store(ctx, kind, fullPath, { ...object, sourcePath: String(sourcePath) });
      }
      return ok(fileView(kind, fullPath));
    };
  }

  const routes: RouteDef[] = [];
  for (const kind of ['cert', 'key'] as const) {
    const read = kind === 'cert' ? 'cert-read' : 'key-read';
    const del = kind === 'cert' ? 'cert-delete' : 'key-delete';
    routes.push(
      {
        pattern: new RegExp(`^${CRYPTO_COLLECTION[kind]}$`),
        area: 'tm',
        methods: {
          GET: { step: read, handle: list(kind, CRYPTO_COLLECTION[kind], CRYPTO_KIND[kind], cryptoView) },
          POST: { step: kind === 'cert' ? 'cert-install' : 'key-install', handle: install(kind) },
        },
      },
      {
        pattern: new RegExp(`^${CRYPTO_COLLECTION[kind]}/([^/]+)$`),
        area: 'tm',
        methods: { GET: { step: read, handle: getOne(kind, cryptoView) }, DELETE: { step: del, handle: remove(kind) } },
      },
      {
        pattern: new RegExp(`^${FILE_COLLECTION[kind]}$`),
        area: 'tm',
        methods: {
          GET: { step: read, handle: list(kind, FILE_COLLECTION[kind], FILE_KIND[kind], fileView) },
          POST: { step: 'file-create', handle: createFile(kind) },
        },
      },
      {
        pattern: new RegExp(`^${FILE_COLLECTION[kind]}/([^/]+)$`),
        area: 'tm',
        methods: {
          GET: { step: read, handle: getOne(kind, fileView) },
          PUT: { step: 'file-update', handle: updateFile(kind) },
          PATCH: { step: 'file-update', handle: updateFile(kind) },
          DELETE: { step: del, handle: remove(kind) },
        },
      },
    );
  }
  return routes;
}
