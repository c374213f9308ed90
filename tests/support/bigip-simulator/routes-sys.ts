/**
 * Device identity and housekeeping (`reference/bigip-icontrol.md` §1.4, §6): `GET /mgmt/tm/sys` (the
 * Basic-auth probe), `GET /mgmt/tm/sys/version`, `GET /mgmt/shared/identified-devices/config/device-info` and
 * `POST /mgmt/tm/sys/config {"command":"save"}` (counted in `state.saves`).
 */
import { randomUUID } from 'node:crypto';
import { type OpContext, ok, type Reply, type RouteDef, type SimCore } from './context.ts';
import { tmError } from './errors.ts';

export const BUILD = '0.0.2';
const EDITION = 'Point Release 2';
const BUILD_DATE = 'Thu Feb 13 10:18:42 PST 2025';

export function sysRoutes(core: SimCore): RouteDef[] {
  const { config } = core;
  const machineId = randomUUID();
  const chassisSerialNumber = randomUUID();
  const ver = `?ver=${config.version}`;

  const sysCollection = (): Reply =>
    ok({
      kind: 'tm:sys:syscollectionstate',
      selfLink: `https://localhost/mgmt/tm/sys${ver}`,
      items: ['application', 'config', 'crypto', 'file', 'folder', 'global-settings', 'version'].map((name) => ({
        reference: { link: `https://localhost/mgmt/tm/sys/${name}${ver}` },
      })),
    });

  const version = (): Reply =>
    ok({
      kind: 'tm:sys:version:versionstats',
      selfLink: `https://localhost/mgmt/tm/sys/version${ver}`,
      entries: {
        'https://localhost/mgmt/tm/sys/version/0': {
          nestedStats: {
            entries: {
              Build: { description: BUILD },
              Date: { description: BUILD_DATE },
              Edition: { description: EDITION },
              Product: { description: 'BIG-IP' },
              Title: { description: 'Main Package' },
              Version: { description: config.version },
            },
          },
        },
      },
    });

  const deviceInfo = (): Reply =>
    ok({
      baseMac: '52:54:00:5a:1e:01',
      build: BUILD,
      chassisSerialNumber,
      edition: EDITION,
      hostname: config.hostname,
      isClustered: false,
      isVirtual: true,
      machineId,
      managementAddress: '127.0.0.1',
      address: '127.0.0.1',
      mcpDeviceName: `/Common/${config.hostname}`,
      platform: 'Z100',
      platformMarketingName: 'BIG-IP Virtual Edition',
      product: 'BIG-IP',
      restFrameworkVersion: `${config.version}-${BUILD}`,
      slots: [{ volume: 'HD1.1', product: 'BIG-IP', version: config.version, build: BUILD, isActive: true }],
      version: config.version,
      generation: 0,
      lastUpdateMicros: 0,
      kind: 'shared:resolver:device-groups:deviceinfostate',
      selfLink: 'https://localhost/mgmt/shared/identified-devices/config/device-info',
    });

  const save = (ctx: OpContext): Reply => {
    if (ctx.body['command'] !== 'save') {
      throw tmError(400, `01070734:3: Configuration error: only "command":"save" is modelled for /mgmt/tm/sys/config`);
    }
    core.state.saves += 1;
    return ok({ kind: 'tm:sys:config:savestate', command: 'save' });
  };

  return [
    { pattern: /^\/mgmt\/tm\/sys$/, area: 'tm', methods: { GET: { step: 'auth-probe', handle: sysCollection } } },
    { pattern: /^\/mgmt\/tm\/sys\/version$/, area: 'tm', methods: { GET: { step: 'version', handle: version } } },
    { pattern: /^\/mgmt\/tm\/sys\/config$/, area: 'tm', methods: { POST: { step: 'save', handle: save } } },
    {
      pattern: /^\/mgmt\/shared\/identified-devices\/config\/device-info$/,
      area: 'shared',
      methods: { GET: { step: 'device-info', handle: deviceInfo } },
    },
  ];
}
