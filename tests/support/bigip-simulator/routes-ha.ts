/**
 * High availability as one member of a device group sees it (`reference/bigip-icontrol.md` §6): `cm/device`
 * (every device of the trust domain, `selfDevice` a string), `cm/device-group[/…[/devices]]` (the built-in
 * `device_trust_group` and the cluster's group), `cm/sync-status` and `cm/failover-status` (nested stats),
 * and `config-sync to-group` through `POST /mgmt/tm/cm` (`"config-sync to-group dg"`) or `POST
 * /mgmt/tm/cm/config-sync` (`"to-group dg"`). The group's behaviour lives in `ha-cluster.ts`.
 */
import { ok, type OpContext, type Reply, type RouteDef, type SimCore } from './context.ts';
import { tmError } from './errors.ts';
import { collection, fullPathFromSegment, objectHeader } from './paths.ts';

export interface HaDeviceView {
  name: string;
  failoverState: 'active' | 'standby';
}

export interface HaGroupView {
  name: string;
  type: 'sync-failover' | 'sync-only';
  autoSync: boolean;
  members: string[];
}

export interface HaSyncView {
  status: string;
  color: string;
  summary: string;
  details: string[];
}

/** What one member's routes ask the cluster. */
export interface HaMemberLink {
  self: string;
  devices(): HaDeviceView[];
  group(): HaGroupView;
  syncStatus(): HaSyncView;
  /** Starts a sync from this member; throws a SimError when refused. */
  configSync(group: string): void;
}

const TRUST_GROUP = '/Common/device_trust_group';

function nested(base: string, entries: Record<string, unknown>): Record<string, unknown> {
  return { [base]: { nestedStats: { entries } } };
}

export function haRoutes(core: SimCore, link: HaMemberLink): RouteDef[] {
  const version = core.config.version;

  function deviceItem(d: HaDeviceView): Record<string, unknown> {
    return {
      ...objectHeader('tm:cm:device:devicestate', '/mgmt/tm/cm/device', `/Common/${d.name}`, 1, version),
      hostname: `${d.name}.example.test`,
      managementIp: '127.0.0.1',
      configsyncIp: '127.0.0.1',
      failoverState: d.failoverState,
      selfDevice: d.name === link.self ? 'true' : 'false',
      version,
    };
  }

  function groupItem(fullPath: string): Record<string, unknown> {
    const g = link.group();
    const trust = fullPath === TRUST_GROUP;
    const header = objectHeader(
      'tm:cm:device-group:device-groupstate',
      '/mgmt/tm/cm/device-group',
      fullPath,
      1,
      version,
    );
    return {
      ...header,
      asmSync: 'disabled',
      autoSync: !trust && g.autoSync ? 'enabled' : 'disabled',
      fullLoadOnSync: 'false',
      incrementalConfigSyncSizeMax: 1024,
      networkFailover: g.type === 'sync-failover' && !trust ? 'enabled' : 'disabled',
      saveOnAutoSync: 'false',
      type: trust ? 'sync-only' : g.type,
      devicesReference: {
        link: String(header['selfLink']).replace('?', '/devices?'),
        isSubcollection: true,
      },
    };
  }

  function groupPath(ctx: OpContext): string {
    const fullPath = fullPathFromSegment(ctx.params[0]!);
    if (fullPath !== TRUST_GROUP && fullPath !== `/Common/${link.group().name}`)
      throw tmError(404, `01020036:3: The requested device group (${fullPath}) was not found.`);
    return fullPath;
  }

  function syncStatus(): Reply {
    const s = link.syncStatus();
    const base = 'https://localhost/mgmt/tm/cm/sync-status/0';
    const details: Record<string, unknown> = {};
    s.details.forEach((description, i) => {
      Object.assign(
        details,
        nested(`https://localhost/mgmt/tm/cm/syncStatus/0/details/${i}`, { details: { description } }),
      );
    });
    return ok({
      kind: 'tm:cm:sync-status:sync-statusstats',
      selfLink: `https://localhost/mgmt/tm/cm/sync-status?ver=${version}`,
      entries: nested(base, {
        color: { description: s.color },
        mode: { description: 'high-availability' },
        status: { description: s.status },
        summary: { description: s.summary },
        ...nested('https://localhost/mgmt/tm/cm/syncStatus/0/details', details),
      }),
    });
  }

  function failoverStatus(): Reply {
    const self = link.devices().find((d) => d.name === link.self);
    const active = self?.failoverState === 'active';
    return ok({
      kind: 'tm:cm:failover-status:failover-statusstats',
      selfLink: `https://localhost/mgmt/tm/cm/failover-status?ver=${version}`,
      entries: nested('https://localhost/mgmt/tm/cm/failover-status/0', {
        color: { description: active ? 'green' : 'gray' },
        status: { description: active ? 'ACTIVE' : 'STANDBY' },
        summary: { description: active ? '1/1 active' : '1/1 standby' },
        ...nested('https://localhost/mgmt/tm/cm/failoverStatus/0/details', {
          ...nested('https://localhost/mgmt/tm/cm/failoverStatus/0/details/0', {
            details: { description: `${active ? 'active' : 'standby'} for /Common/traffic-group-1` },
          }),
        }),
      }),
    });
  }

  function runSync(prefix: string) {
    return (ctx: OpContext): Reply => {
      const args = typeof ctx.body['utilCmdArgs'] === 'string' ? ctx.body['utilCmdArgs'].trim() : '';
      const match = new RegExp(`^${prefix}to-group (\\S+)(?: force-full-load-push)?$`).exec(args);
      if (ctx.body['command'] !== 'run' || !match) {
        if (new RegExp(`^${prefix}from-group `).test(args))
          throw tmError(400, '01070734:3: Configuration error: only "to-group" syncs are modelled by the simulator');
        throw tmError(400, '"config-sync" unexpected argument', 1);
      }
      const group = match[1]!.replace(/^\/Common\//, '');
      if (group !== link.group().name)
        throw tmError(400, `01070734:3: Configuration error: Device group (${group}) not found in device group sync`);
      link.configSync(group);
      return ok({ kind: 'tm:cm:runstate', command: 'run', utilCmdArgs: args });
    };
  }

  return [
    {
      pattern: /^\/mgmt\/tm\/cm\/device$/,
      area: 'tm',
      methods: {
        GET: {
          step: 'ha-read',
          handle: () =>
            ok(
              collection(
                'tm:cm:device:devicecollectionstate',
                '/mgmt/tm/cm/device',
                version,
                link.devices().map(deviceItem),
              ),
            ),
        },
      },
    },
    {
      pattern: /^\/mgmt\/tm\/cm\/device-group$/,
      area: 'tm',
      methods: {
        GET: {
          step: 'ha-read',
          handle: () =>
            ok(
              collection('tm:cm:device-group:device-groupcollectionstate', '/mgmt/tm/cm/device-group', version, [
                groupItem(TRUST_GROUP),
                groupItem(`/Common/${link.group().name}`),
              ]),
            ),
        },
      },
    },
    {
      pattern: /^\/mgmt\/tm\/cm\/device-group\/([^/]+)$/,
      area: 'tm',
      methods: { GET: { step: 'ha-read', handle: (ctx) => ok(groupItem(groupPath(ctx))) } },
    },
    {
      pattern: /^\/mgmt\/tm\/cm\/device-group\/([^/]+)\/devices$/,
      area: 'tm',
      methods: {
        GET: {
          step: 'ha-read',
          handle: (ctx) => {
            const fullPath = groupPath(ctx);
            const names = fullPath === TRUST_GROUP ? link.devices().map((d) => d.name) : link.group().members;
            const base = `/mgmt/tm/cm/device-group/~Common~${fullPath.split('/').pop()}/devices`;
            return ok(
              collection(
                'tm:cm:device-group:devices:devicescollectionstate',
                base,
                version,
                names.map((name) => ({
                  ...objectHeader('tm:cm:device-group:devices:devicesstate', base, `/Common/${name}`, 1, version),
                })),
              ),
            );
          },
        },
      },
    },
    {
      pattern: /^\/mgmt\/tm\/cm\/sync-status$/,
      area: 'tm',
      methods: { GET: { step: 'sync-status', handle: syncStatus } },
    },
    {
      pattern: /^\/mgmt\/tm\/cm\/failover-status$/,
      area: 'tm',
      methods: { GET: { step: 'ha-read', handle: failoverStatus } },
    },
    {
      pattern: /^\/mgmt\/tm\/cm$/,
      area: 'tm',
      methods: { POST: { step: 'config-sync', handle: runSync('config-sync ') } },
    },
    {
      pattern: /^\/mgmt\/tm\/cm\/config-sync$/,
      area: 'tm',
      methods: { POST: { step: 'config-sync', handle: runSync('') } },
    },
  ];
}
