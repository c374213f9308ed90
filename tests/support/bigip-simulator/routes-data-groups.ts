/**
 * Internal data groups (`reference/bigip-icontrol.md` §8): create, GET, PUT/PATCH replacing the whole
 * `records` list, and PATCH `?options=records add|delete|modify|replace-all-with|none …` for incremental
 * changes (409 for an existing record on add, 404 for a missing one on delete), DELETE.
 */
import { type DataGroupObject, dropMeta, metaOf, touchMeta } from './state.ts';
import { empty, type OpContext, ok, type Reply, type RouteDef, type SimCore } from './context.ts';
import { alreadyExists, notFound, tmError, WHAT } from './errors.ts';
import { collection, fullPathFromBody, fullPathFromSegment, objectHeader, splitFullPath } from './paths.ts';
import { parseRecordsOption, type RecordSpec } from './tmsh-records.ts';

export const DATA_GROUP_COLLECTION = '/mgmt/tm/ltm/data-group/internal';
const KIND = 'tm:ltm:data-group:internal:internal';
const TYPES = new Set(['string', 'ip', 'integer']);

function configError(message: string) {
  return tmError(400, `01070734:3: Configuration error: ${message}`);
}

function checkData(type: string, fullPath: string, record: RecordSpec): void {
  if (type === 'integer' && !/^-?\d+$/.test(record.name)) {
    throw configError(`invalid integer record name (${record.name}) for data group ${fullPath}`);
  }
}

function recordsFromBody(raw: unknown, type: string, fullPath: string): Map<string, string> {
  if (raw === undefined) return new Map();
  if (!Array.isArray(raw)) throw configError(`records of data group ${fullPath} must be an array`);
  const records = new Map<string, string>();
  for (const item of raw as unknown[]) {
    const r = (item ?? {}) as Record<string, unknown>;
    if (typeof r['name'] !== 'string' || r['name'] === '')
      throw configError(`a record of data group ${fullPath} has no name`);
    const data = r['data'] === undefined ? '' : String(r['data']);
    checkData(type, fullPath, { name: r['name'] });
    if (records.has(r['name'])) throw configError(`duplicate record (${r['name']}) in data group ${fullPath}`);
    records.set(r['name'], data);
  }
  return records;
}

export function dataGroupRoutes(core: SimCore): RouteDef[] {
  const { state } = core;

  function view(fullPath: string): Record<string, unknown> {
    const dg = state.dataGroups.get(fullPath)!;
    const meta = metaOf(state, 'data-group', fullPath, core.startedAt);
    const records = [...dg.records].map(([name, data]) => (data === '' ? { name } : { name, data }));
    return {
      ...objectHeader(`${KIND}state`, DATA_GROUP_COLLECTION, fullPath, meta.generation, core.config.version),
      type: dg.type,
      ...(records.length > 0 ? { records } : {}),
    };
  }

  function save(fullPath: string, dg: DataGroupObject): Reply {
    state.dataGroups.set(fullPath, dg);
    touchMeta(state, 'data-group', fullPath, core.now());
    return ok(view(fullPath));
  }

  function create(ctx: OpContext): Reply {
    const fullPath = fullPathFromBody(ctx.body);
    if (state.dataGroups.has(fullPath)) throw alreadyExists(WHAT.dataGroup, fullPath);
    const type = ctx.body['type'];
    if (typeof type !== 'string' || !TYPES.has(type)) {
      throw configError(`data group ${fullPath} needs a type (string, ip or integer)`);
    }
    return save(fullPath, { type, records: recordsFromBody(ctx.body['records'], type, fullPath) });
  }

  function itemName(dg: DataGroupObject, fullPath: string, name: string): string {
    return `class ${dg.type} item (${fullPath} ${name})`;
  }

  function incremental(fullPath: string, dg: DataGroupObject, options: string): DataGroupObject {
    const parsed = parseRecordsOption(options);
    const records = new Map(dg.records);
    const { partition } = splitFullPath(fullPath);
    switch (parsed.op) {
      case 'none':
        records.clear();
        break;
      case 'replace-all-with':
        records.clear();
        for (const r of parsed.records) {
          checkData(dg.type, fullPath, r);
          records.set(r.name, r.data ?? '');
        }
        break;
      case 'add':
        for (const r of parsed.records) {
          checkData(dg.type, fullPath, r);
          if (records.has(r.name)) {
            throw tmError(
              409,
              `01020066:3: The requested ${itemName(dg, fullPath, r.name)} already exists in partition ${partition}.`,
            );
          }
          records.set(r.name, r.data ?? '');
        }
        break;
      case 'modify':
        for (const r of parsed.records) {
          if (!records.has(r.name))
            throw tmError(404, `01020036:3: The requested ${itemName(dg, fullPath, r.name)} was not found.`);
          records.set(r.name, r.data ?? '');
        }
        break;
      case 'delete':
        for (const r of parsed.records) {
          if (!records.delete(r.name))
            throw tmError(404, `01020036:3: The requested ${itemName(dg, fullPath, r.name)} was not found.`);
        }
        break;
    }
    return { type: dg.type, records };
  }

  function update(ctx: OpContext): Reply {
    const fullPath = fullPathFromSegment(ctx.params[0]!);
    const dg = state.dataGroups.get(fullPath);
    if (!dg) throw notFound(WHAT.dataGroup, fullPath);
    const options = ctx.query.get('options');
    if (options !== null) return save(fullPath, incremental(fullPath, dg, options));
    const type = ctx.body['type'];
    if (type !== undefined && type !== dg.type)
      throw configError(`the type of data group ${fullPath} cannot be changed`);
    if (ctx.body['records'] === undefined && ctx.method === 'PATCH') return save(fullPath, dg);
    return save(fullPath, { type: dg.type, records: recordsFromBody(ctx.body['records'], dg.type, fullPath) });
  }

  function remove(ctx: OpContext): Reply {
    const fullPath = fullPathFromSegment(ctx.params[0]!);
    if (!state.dataGroups.delete(fullPath)) throw notFound(WHAT.dataGroup, fullPath);
    dropMeta(state, 'data-group', fullPath);
    return empty();
  }

  return [
    {
      pattern: new RegExp(`^${DATA_GROUP_COLLECTION}$`),
      area: 'tm',
      methods: {
        GET: {
          step: 'data-group-read',
          handle: () =>
            ok(
              collection(
                `${KIND}collectionstate`,
                DATA_GROUP_COLLECTION,
                core.config.version,
                [...state.dataGroups.keys()].map(view),
              ),
            ),
        },
        POST: { step: 'data-group-create', handle: create },
      },
    },
    {
      pattern: new RegExp(`^${DATA_GROUP_COLLECTION}/([^/]+)$`),
      area: 'tm',
      methods: {
        GET: {
          step: 'data-group-read',
          handle: (ctx) => {
            const fullPath = fullPathFromSegment(ctx.params[0]!);
            if (!state.dataGroups.has(fullPath)) throw notFound(WHAT.dataGroup, fullPath);
            return ok(view(fullPath));
          },
        },
        PUT: { step: 'data-group-patch', handle: update },
        PATCH: { step: 'data-group-patch', handle: update },
        DELETE: { step: 'data-group-delete', handle: remove },
      },
    },
  ];
}
