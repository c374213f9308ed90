/**
 * Client-SSL profiles (`reference/bigip-icontrol.md` §4): GET one or all, POST create (`defaultsFrom`
 * inherits the parent's certKeyChain when none is given; 409 when it exists), PATCH/PUT replacing
 * `certKeyChain` wholesale (or the first entry through the legacy `cert`/`key`/`chain`/`passphrase` fields),
 * top-level `cert`/`key`/`chain` mirroring the first entry, DELETE. References, passphrases and the key/cert
 * match are checked after the write by `consistency.ts`.
 */
import { createHash } from 'node:crypto';
import { type ProfileChainEntry, type ProfileObject, dropMeta, metaOf, touchMeta } from './state.ts';
import { empty, type OpContext, ok, type Reply, type RouteDef, type SimCore } from './context.ts';
import { alreadyExists, notFound, tmError, WHAT } from './errors.ts';
import {
  collection,
  fullPathFromBody,
  fullPathFromSegment,
  objectHeader,
  resolveReference,
  splitFullPath,
} from './paths.ts';
import { touchedKey } from './consistency.ts';

export const PROFILE_COLLECTION = '/mgmt/tm/ltm/profile/client-ssl';
const KIND = 'tm:ltm:profile:client-ssl:client-ssl';
const LEGACY_FIELDS = ['cert', 'key', 'chain', 'passphrase'] as const;

/** Settings every answer carries (a fraction of the dozens a real profile shows). */
const FIXED_SETTINGS = {
  alertTimeout: 'indefinite',
  allowNonSsl: 'disabled',
  authenticate: 'once',
  ciphers: 'DEFAULT',
  mode: 'enabled',
  options: ['dont-insert-empty-fragments', 'no-tlsv1.3'],
  renegotiation: 'enabled',
  secureRenegotiation: 'require',
  serverName: 'none',
  sniDefault: 'false',
  sniRequire: 'false',
  strictResume: 'disabled',
  uncleanShutdown: 'enabled',
};

/** The device shows stored passphrases encrypted with its master key; this only has to look like it. */
function maskedPassphrase(passphrase: string): string {
  return `$M$Zk$${createHash('sha256').update(passphrase).digest('base64').slice(0, 24)}`;
}

function configError(message: string) {
  return tmError(400, `01070734:3: Configuration error: ${message}`);
}

function basename(fullPath: string): string {
  return fullPath.split('/').pop() ?? fullPath;
}

/** A certKeyChain array from a body, with references resolved against the profile's partition. */
export function chainFromBody(raw: unknown, profilePath: string): ProfileChainEntry[] {
  const { partition } = splitFullPath(profilePath);
  if (!Array.isArray(raw)) throw configError(`certKeyChain of profile ${profilePath} must be an array`);
  const names = new Set<string>();
  return raw.map((item: unknown) => {
    const e = (item ?? {}) as Record<string, unknown>;
    const cert = e['cert'];
    const key = e['key'];
    if (typeof cert !== 'string' || typeof key !== 'string' || cert === '' || key === '') {
      throw configError(`a certKeyChain entry of profile ${profilePath} needs both cert and key`);
    }
    const certPath = resolveReference(cert, partition);
    const name = typeof e['name'] === 'string' && e['name'] !== '' ? e['name'] : basename(certPath);
    if (names.has(name)) throw configError(`duplicate certKeyChain entry name (${name}) in profile ${profilePath}`);
    names.add(name);
    const chain =
      typeof e['chain'] === 'string' && e['chain'] !== '' ? resolveReference(e['chain'], partition) : 'none';
    const passphrase = typeof e['passphrase'] === 'string' && e['passphrase'] !== '' ? e['passphrase'] : undefined;
    return {
      name,
      cert: certPath,
      key: resolveReference(key, partition),
      chain,
      ...(passphrase === undefined ? {} : { passphrase }),
    };
  });
}

/**
 * A GET never returns passphrases, so a client rewriting the list sends untouched entries back without one.
 * An entry naming the same cert and key as before keeps the passphrase the profile already holds (assumed
 * BIG-IP behaviour, not verified on hardware; see docs/decisions/0008).
 */
function keepStoredPassphrases(next: ProfileChainEntry[], current: ProfileChainEntry[]): ProfileChainEntry[] {
  return next.map((entry) => {
    if (entry.passphrase !== undefined) return entry;
    const stored = current.find((e) => e.cert === entry.cert && e.key === entry.key)?.passphrase;
    return stored === undefined ? entry : { ...entry, passphrase: stored };
  });
}

/** The chain after applying legacy top-level fields to the first entry; null when the body has none. */
function chainFromLegacy(
  body: Record<string, unknown>,
  current: ProfileChainEntry[],
  profilePath: string,
): ProfileChainEntry[] | null {
  if (!LEGACY_FIELDS.some((f) => typeof body[f] === 'string')) return null;
  const { partition } = splitFullPath(profilePath);
  const first: ProfileChainEntry = current[0]
    ? { ...current[0] }
    : { name: 'default', cert: 'none', key: 'none', chain: 'none' };
  for (const field of ['cert', 'key', 'chain'] as const) {
    const value = body[field];
    if (typeof value === 'string') first[field] = resolveReference(value === '' ? 'none' : value, partition);
  }
  if (typeof body['passphrase'] === 'string') first.passphrase = body['passphrase'];
  if (first.cert === 'none' && first.key === 'none') return current.slice(1);
  if (first.cert === 'none' || first.key === 'none')
    throw configError(`profile ${profilePath} needs both cert and key`);
  return [first, ...current.slice(1)];
}

/** `serverName` from a body ('none' or '' clears it), else what the profile had. */
function serverNameOf(body: Record<string, unknown>, current: string | undefined): { serverName?: string } {
  const raw = body['serverName'];
  const value = typeof raw === 'string' ? (raw === '' || raw === 'none' ? undefined : raw) : current;
  return value === undefined ? {} : { serverName: value };
}

export function profileRoutes(core: SimCore): RouteDef[] {
  const { state } = core;

  function view(fullPath: string): Record<string, unknown> {
    const profile = state.profiles.get(fullPath)!;
    const meta = metaOf(state, 'profile', fullPath, core.startedAt);
    const first = profile.certKeyChain[0];
    return {
      ...objectHeader(`${KIND}state`, PROFILE_COLLECTION, fullPath, meta.generation, core.config.version),
      ...(profile.defaultsFrom === null ? {} : { defaultsFrom: profile.defaultsFrom }),
      cert: first?.cert ?? 'none',
      key: first?.key ?? 'none',
      chain: first?.chain ?? 'none',
      ...(first?.passphrase ? { passphrase: maskedPassphrase(first.passphrase) } : {}),
      certKeyChain: profile.certKeyChain.map((e) => ({
        name: e.name,
        appService: 'none',
        cert: e.cert,
        chain: e.chain,
        key: e.key,
        ...(e.passphrase ? { passphrase: maskedPassphrase(e.passphrase) } : {}),
        usage: 'SERVER',
      })),
      ...FIXED_SETTINGS,
      serverName: profile.serverName ?? 'none',
    };
  }

  function save(ctx: OpContext, fullPath: string, profile: ProfileObject): Reply {
    state.profiles.set(fullPath, profile);
    touchMeta(state, 'profile', fullPath, core.now());
    ctx.touched.add(touchedKey('profile', fullPath));
    return ok(view(fullPath));
  }

  function parentOf(raw: unknown, fullPath: string): string | null {
    if (raw === undefined) return '/Common/clientssl';
    if (typeof raw !== 'string') throw configError(`defaultsFrom of profile ${fullPath} must be a string`);
    if (raw === '' || raw === 'none') return null;
    return resolveReference(raw, splitFullPath(fullPath).partition);
  }

  function create(ctx: OpContext): Reply {
    const fullPath = fullPathFromBody(ctx.body);
    if (state.profiles.has(fullPath)) throw alreadyExists(WHAT.profile, fullPath);
    const defaultsFrom = parentOf(ctx.body['defaultsFrom'], fullPath);
    const parent = defaultsFrom === null ? undefined : state.profiles.get(defaultsFrom);
    if (defaultsFrom !== null && !parent) throw notFound(WHAT.profile, defaultsFrom);
    const inherited = parent ? parent.certKeyChain.map((e) => ({ ...e })) : [];
    const certKeyChain =
      ctx.body['certKeyChain'] !== undefined
        ? chainFromBody(ctx.body['certKeyChain'], fullPath)
        : (chainFromLegacy(ctx.body, inherited, fullPath) ?? inherited);
    return save(ctx, fullPath, { defaultsFrom, certKeyChain, ...serverNameOf(ctx.body, undefined) });
  }

  function update(ctx: OpContext): Reply {
    const fullPath = fullPathFromSegment(ctx.params[0]!);
    const existing = state.profiles.get(fullPath);
    if (!existing) throw notFound(WHAT.profile, fullPath);
    const defaultsFrom =
      ctx.body['defaultsFrom'] === undefined ? existing.defaultsFrom : parentOf(ctx.body['defaultsFrom'], fullPath);
    const certKeyChain =
      ctx.body['certKeyChain'] !== undefined
        ? keepStoredPassphrases(chainFromBody(ctx.body['certKeyChain'], fullPath), existing.certKeyChain)
        : (chainFromLegacy(ctx.body, existing.certKeyChain, fullPath) ?? existing.certKeyChain.map((e) => ({ ...e })));
    return save(ctx, fullPath, { defaultsFrom, certKeyChain, ...serverNameOf(ctx.body, existing.serverName) });
  }

  function remove(ctx: OpContext): Reply {
    const fullPath = fullPathFromSegment(ctx.params[0]!);
    if (!state.profiles.has(fullPath)) throw notFound(WHAT.profile, fullPath);
    const child = [...state.profiles].find(([, p]) => p.defaultsFrom === fullPath)?.[0];
    if (child)
      throw tmError(
        400,
        `01070293:3: The profile (${fullPath}) cannot be deleted because it is in use as the parent of profile (${child}).`,
      );
    state.profiles.delete(fullPath);
    dropMeta(state, 'profile', fullPath);
    return empty();
  }

  return [
    {
      pattern: new RegExp(`^${PROFILE_COLLECTION}$`),
      area: 'tm',
      methods: {
        GET: {
          step: 'profile-list',
          handle: () =>
            ok(
              collection(
                `${KIND}collectionstate`,
                PROFILE_COLLECTION,
                core.config.version,
                [...state.profiles.keys()].map(view),
              ),
            ),
        },
        POST: { step: 'profile-create', handle: create },
      },
    },
    {
      pattern: new RegExp(`^${PROFILE_COLLECTION}/([^/]+)$`),
      area: 'tm',
      methods: {
        GET: {
          step: 'profile-read',
          handle: (ctx) => {
            const fullPath = fullPathFromSegment(ctx.params[0]!);
            if (!state.profiles.has(fullPath)) throw notFound(WHAT.profile, fullPath);
            return ok(view(fullPath));
          },
        },
        PATCH: { step: 'profile-patch', handle: update },
        PUT: { step: 'profile-patch', handle: update },
        DELETE: { step: 'profile-delete', handle: remove },
      },
    },
  ];
}
