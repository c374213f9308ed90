/**
 * Virtual servers (`reference/bigip-icontrol.md` §8): GET one or all, PATCH/PUT replacing the `rules` list
 * (every rule must exist: 404 01020036) and optionally `destination`. Creating virtual servers is not
 * modelled; tests add them with `addVirtual`.
 */
import { metaOf, touchMeta } from './state.ts';
import { type OpContext, ok, type Reply, type RouteDef, type SimCore } from './context.ts';
import { notFound, tmError, WHAT } from './errors.ts';
import { collection, fullPathFromSegment, objectHeader, resolveReference, selfLink, splitFullPath } from './paths.ts';

export const VIRTUAL_COLLECTION = '/mgmt/tm/ltm/virtual';
const KIND = 'tm:ltm:virtual:virtual';

export function virtualRoutes(core: SimCore): RouteDef[] {
  const { state } = core;

  function view(fullPath: string, expand = false): Record<string, unknown> {
    const vs = state.virtuals.get(fullPath)!;
    const meta = metaOf(state, 'virtual', fullPath, core.startedAt);
    const link = selfLink(VIRTUAL_COLLECTION, fullPath, core.config.version);
    return {
      ...objectHeader(`${KIND}state`, VIRTUAL_COLLECTION, fullPath, meta.generation, core.config.version),
      destination: vs.destination,
      enabled: true,
      ipProtocol: 'tcp',
      mask: '255.255.255.255',
      source: '0.0.0.0/0',
      sourceAddressTranslation: { type: 'automap' },
      translateAddress: 'enabled',
      translatePort: 'enabled',
      // TMOS leaves `rules` out entirely when none are attached.
      ...(vs.rules.length > 0 ? { rules: [...vs.rules] } : {}),
      profilesReference: {
        link: link.replace('?', '/profiles?'),
        isSubcollection: true,
        // `?expandSubcollections=true` inlines the items, as TMOS does.
        ...(expand
          ? {
              items: (vs.profiles ?? []).map((p) => ({
                kind: 'tm:ltm:virtual:profiles:profilesstate',
                name: p.split('/').pop(),
                partition: p.split('/')[1],
                fullPath: p,
                context: state.profiles.has(p) ? 'clientside' : 'all',
              })),
            }
          : {}),
      },
    };
  }

  function update(ctx: OpContext): Reply {
    const fullPath = fullPathFromSegment(ctx.params[0]!);
    const vs = state.virtuals.get(fullPath);
    if (!vs) throw notFound(WHAT.virtual, fullPath);
    const { partition } = splitFullPath(fullPath);
    let rules = [...vs.rules];
    const raw = ctx.body['rules'];
    if (raw !== undefined) {
      if (!Array.isArray(raw) || raw.some((r) => typeof r !== 'string' || r === '')) {
        throw tmError(
          400,
          `01070734:3: Configuration error: rules of virtual server ${fullPath} must be a list of iRule names`,
        );
      }
      rules = (raw as string[]).map((r) => resolveReference(r, partition));
      for (const rule of rules) if (!state.rules.has(rule)) throw notFound(WHAT.rule, rule);
      const dup = rules.find((r, i) => rules.indexOf(r) !== i);
      if (dup)
        throw tmError(
          400,
          `01070734:3: Configuration error: iRule ${dup} is listed twice on virtual server ${fullPath}`,
        );
    }
    const destination =
      typeof ctx.body['destination'] === 'string'
        ? resolveReference(ctx.body['destination'], partition)
        : vs.destination;
    state.virtuals.set(fullPath, { ...vs, destination, rules });
    touchMeta(state, 'virtual', fullPath, core.now());
    return ok(view(fullPath));
  }

  return [
    {
      pattern: new RegExp(`^${VIRTUAL_COLLECTION}$`),
      area: 'tm',
      methods: {
        GET: {
          step: 'virtual-read',
          handle: (ctx) =>
            ok(
              collection(
                `${KIND}collectionstate`,
                VIRTUAL_COLLECTION,
                core.config.version,
                [...state.virtuals.keys()].map((p) => view(p, ctx.query.get('expandSubcollections') === 'true')),
              ),
            ),
        },
      },
    },
    {
      pattern: new RegExp(`^${VIRTUAL_COLLECTION}/([^/]+)$`),
      area: 'tm',
      methods: {
        GET: {
          step: 'virtual-read',
          handle: (ctx) => {
            const fullPath = fullPathFromSegment(ctx.params[0]!);
            if (!state.virtuals.has(fullPath)) throw notFound(WHAT.virtual, fullPath);
            return ok(view(fullPath));
          },
        },
        PATCH: { step: 'virtual-patch', handle: update },
        PUT: { step: 'virtual-patch', handle: update },
      },
    },
  ];
}
