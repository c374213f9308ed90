/**
 * iRules (`reference/bigip-icontrol.md` §8): `/mgmt/tm/ltm/rule` create (409 when it exists), GET, PUT/PATCH
 * replacing `apiAnonymous`, DELETE (refused while a virtual server uses it). The TCL is checked for balanced
 * braces, the one syntax error MCP is sure to catch.
 */
import { dropMeta, metaOf, touchMeta } from './state.ts';
import { empty, type OpContext, ok, type Reply, type RouteDef, type SimCore } from './context.ts';
import { alreadyExists, notFound, tmError, WHAT } from './errors.ts';
import { collection, fullPathFromBody, fullPathFromSegment, objectHeader } from './paths.ts';

export const RULE_COLLECTION = '/mgmt/tm/ltm/rule';
const KIND = 'tm:ltm:rule:rule';

/** Null when braces balance (backslash-escaped braces do not count, as in TCL). */
function braceProblem(source: string): string | null {
  let depth = 0;
  let line = 1;
  for (let i = 0; i < source.length; i += 1) {
    const c = source[i];
    if (c === '\\') i += 1;
    else if (c === '\n') line += 1;
    else if (c === '{') depth += 1;
    else if (c === '}') {
      depth -= 1;
      if (depth < 0) return `line ${line}: extra characters after close-brace`;
    }
  }
  return depth > 0 ? `line ${line}: missing close-brace` : null;
}

export function ruleRoutes(core: SimCore): RouteDef[] {
  const { state } = core;

  function view(fullPath: string): Record<string, unknown> {
    const meta = metaOf(state, 'rule', fullPath, core.startedAt);
    return {
      ...objectHeader(`${KIND}state`, RULE_COLLECTION, fullPath, meta.generation, core.config.version),
      apiAnonymous: state.rules.get(fullPath)!,
    };
  }

  function save(fullPath: string, source: unknown): Reply {
    if (typeof source !== 'string')
      throw tmError(400, `01070734:3: Configuration error: iRule ${fullPath} needs apiAnonymous (its TCL source)`);
    const problem = braceProblem(source);
    if (problem !== null) throw tmError(400, `01070151:3: Rule [${fullPath}] error: ${problem}`);
    state.rules.set(fullPath, source);
    touchMeta(state, 'rule', fullPath, core.now());
    return ok(view(fullPath));
  }

  function create(ctx: OpContext): Reply {
    const fullPath = fullPathFromBody(ctx.body);
    if (state.rules.has(fullPath)) throw alreadyExists(WHAT.rule, fullPath);
    return save(fullPath, ctx.body['apiAnonymous']);
  }

  function update(ctx: OpContext): Reply {
    const fullPath = fullPathFromSegment(ctx.params[0]!);
    if (!state.rules.has(fullPath)) throw notFound(WHAT.rule, fullPath);
    return save(fullPath, ctx.body['apiAnonymous'] ?? state.rules.get(fullPath));
  }

  function remove(ctx: OpContext): Reply {
    const fullPath = fullPathFromSegment(ctx.params[0]!);
    if (!state.rules.has(fullPath)) throw notFound(WHAT.rule, fullPath);
    const user = [...state.virtuals].find(([, v]) => v.rules.includes(fullPath))?.[0];
    if (user)
      throw tmError(
        400,
        `01071349:3: The iRule (${fullPath}) cannot be deleted because it is in use by a virtual server (${user}).`,
      );
    state.rules.delete(fullPath);
    dropMeta(state, 'rule', fullPath);
    return empty();
  }

  return [
    {
      pattern: new RegExp(`^${RULE_COLLECTION}$`),
      area: 'tm',
      methods: {
        GET: {
          step: 'rule-read',
          handle: () =>
            ok(
              collection(
                `${KIND}collectionstate`,
                RULE_COLLECTION,
                core.config.version,
                [...state.rules.keys()].map(view),
              ),
            ),
        },
        POST: { step: 'rule-write', handle: create },
      },
    },
    {
      pattern: new RegExp(`^${RULE_COLLECTION}/([^/]+)$`),
      area: 'tm',
      methods: {
        GET: {
          step: 'rule-read',
          handle: (ctx) => {
            const fullPath = fullPathFromSegment(ctx.params[0]!);
            if (!state.rules.has(fullPath)) throw notFound(WHAT.rule, fullPath);
            return ok(view(fullPath));
          },
        },
        PUT: { step: 'rule-write', handle: update },
        PATCH: { step: 'rule-write', handle: update },
        DELETE: { step: 'rule-delete', handle: remove },
      },
    },
  ];
}
