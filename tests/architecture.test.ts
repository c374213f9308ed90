import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CORE = join(ROOT, 'core');

/** Packages the core must not depend on (DESIGN.md §4): edges and storage drivers. */
const FORBIDDEN_PACKAGES = [
  /^@slack\//,
  /^hono(\/|$)/,
  /^@hono\//,
  /^drizzle-orm(\/|$)/,
  /^pg(\/|$)/,
  /^@electric-sql\//,
];
/** Top-level project folders (and the composition root) the core must not reach into. */
const FORBIDDEN_DIRS = ['bot', 'responder', 'db', 'cli'];
const FORBIDDEN_FILES = ['runtime.ts'];

// The quoted specifier after `from`, after a bare `import`, or inside `import(...)`. Only comments that start
// a line are stripped (so doc comments that mention a package do not count): a `//` or `/*` inside a string
// or regex can then never swallow a real import, and when in doubt the scanner over-reports.
const SPECIFIER_PATTERNS = [
  /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*(['"])([^'"]+)\1/g,
  /\bimport\s*(['"])([^'"]+)\1/g,
  /\bimport\s*\(\s*(['"`])([^'"`]+)\1\s*\)/g,
];

function stripComments(source: string): string {
  return source.replace(/^[ \t]*\/\*[\s\S]*?\*\//gm, ' ').replace(/^[ \t]*\/\/.*$/gm, '');
}

function importSpecifiers(source: string): string[] {
  const text = stripComments(source);
  const found: string[] = [];
  for (const pattern of SPECIFIER_PATTERNS) {
    for (const match of text.matchAll(pattern)) found.push(match[2]!);
  }
  return found;
}

/** Why `specifier`, imported from `file`, breaks the core's boundary; null when it does not. */
function violation(file: string, specifier: string): string | null {
  if (specifier.startsWith('.')) {
    const target = resolve(dirname(file), specifier);
    const fromRoot = relative(ROOT, target);
    const top = fromRoot.split(sep)[0]!;
    if (FORBIDDEN_DIRS.includes(top)) return `reaches into ${top}/`;
    if (FORBIDDEN_FILES.includes(fromRoot)) return `imports the composition root ${fromRoot}`;
    return null;
  }
  const name = specifier.replace(/^node:/, '');
  return FORBIDDEN_PACKAGES.some((p) => p.test(name)) ? `imports the edge/storage package ${specifier}` : null;
}

function violations(file: string, source: string): string[] {
  return importSpecifiers(source)
    .map((specifier) => {
      const why = violation(file, specifier);
      return why && `${relative(ROOT, file)}: '${specifier}' ${why}`;
    })
    .filter((v): v is string => v !== null);
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.isFile() && entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Our own sources: every folder that ships, and the composition root beside them. */
const SOURCE_DIRS = ['core', 'db', 'cli', 'responder', 'bot'];
const ROOT_SOURCES = ['runtime.ts'];

/**
 * Import edges among our .ts files, by path relative to ROOT. Type-only and dynamic imports count too: a
 * cycle through either still ties the files together, and `import()` must not become a way to hide one.
 */
function importGraph(sources: Map<string, string>): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const [file, source] of sources) {
    const targets = importSpecifiers(source)
      .filter((s) => s.startsWith('.'))
      .map((s) => relative(ROOT, resolve(dirname(join(ROOT, file)), s)))
      .filter((target) => sources.has(target));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Every import cycle, each as its files in import order starting from the smallest name, found once. */
function importCycles(graph: Map<string, string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') {
        const cycle = stack.slice(stack.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const canonical = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.set(canonical.join(' → '), canonical);
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return [...cycles.values()];
}

describe('architecture: core/ depends on no edge, driver or adapter outside core', () => {
  const files = tsFiles(CORE);

  it('finds the core sources', () => {
    expect(files.length).toBeGreaterThan(10);
    expect(files.map((f) => relative(ROOT, f))).toContain(join('core', 'ports', 'store.ts'));
  });

  it('no core file imports a forbidden package or folder', () => {
    const found = files.flatMap((file) => violations(file, readFileSync(file, 'utf8')));
    expect(found).toEqual([]);
  });

  describe('the scanner itself', () => {
    const file = join(CORE, 'services', 'sample.ts');

    it('reads every import and re-export form', () => {
      const sample = [
        "import { a } from 'static-named';",
        'import b from "static-default";',
        "import * as c from 'static-namespace';",
        "import type { D } from 'type-only';",
        'import {\n  e,\n  f,\n} from "multi-line";',
        "import 'side-effect';",
        "export { g } from 're-export';",
        "export * from 'star-export';",
        "export type { H } from 're-export-type';",
        "const i = await import('dynamic');",
        'const j = await import(`dynamic-template`);',
        "// import { k } from 'commented-out';",
        "/* import 'block-commented'; */",
        "const url = 'http://example.com/x'; import { l } from 'after-url-string';",
        "const glob = '/*.ts'; import { m } from 'after-glob-string'; // */",
        "  /**\n   * import { n } from 'in-doc-comment';\n   */",
      ].join('\n');
      expect(importSpecifiers(sample).sort()).toEqual(
        [
          'static-named',
          'static-default',
          'static-namespace',
          'type-only',
          'multi-line',
          'side-effect',
          're-export',
          'star-export',
          're-export-type',
          'dynamic',
          'dynamic-template',
          'after-url-string',
          'after-glob-string',
        ].sort(),
      );
    });

    it.each([
      "import { App } from '@slack/bolt';",
      "import type { WebClient } from '@slack/web-api';",
      "import { Hono } from 'hono';",
      "import { cors } from 'hono/cors';",
      "import { serve } from '@hono/node-server';",
      "import { eq } from 'drizzle-orm';",
      "import { drizzle } from 'drizzle-orm/pglite';",
      "import pg from 'pg';",
      "import { PGlite } from '@electric-sql/pglite';",
      "import { createDrizzleStore } from '../../db/drizzle-store.ts';",
      "export { createResponderApp } from '../../responder/app.ts';",
      "import '../../bot/app.ts';",
      "const cli = await import('../../cli/main.ts');",
      "import { start } from '../../runtime.ts';",
      "import type { Schema } from '../../db/client.ts';",
    ])('flags %s', (line) => {
      expect(violations(file, line)).toHaveLength(1);
    });

    it.each([
      "import { z } from 'zod';",
      "import acme from 'acme-client';",
      "import { createHash } from 'node:crypto';",
      "import pgFormat from 'pg-format';",
      "import { x } from 'honorific';",
      "import type { Store } from '../ports/store.ts';",
      "import { CoreError } from '../errors.ts';",
      "import { dbLike } from './db/helper.ts';",
      "const s = 'db/ and hono are just words here';",
    ])('allows %s', (line) => {
      expect(violations(file, line)).toEqual([]);
    });
  });
});

describe('architecture: no import cycle among our own sources', () => {
  const files = [...SOURCE_DIRS.flatMap((dir) => tsFiles(join(ROOT, dir))), ...ROOT_SOURCES.map((f) => join(ROOT, f))];
  const sources = new Map(files.map((file) => [relative(ROOT, file), readFileSync(file, 'utf8')]));

  it('finds the sources and their imports', () => {
    const graph = importGraph(sources);
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get(join('cli', 'main.ts'))?.length).toBeGreaterThan(0);
  });

  it('no file reaches itself through its imports', () => {
    expect(importCycles(importGraph(sources)).map((cycle) => [...cycle, cycle[0]].join(' → '))).toEqual([]);
  });

  describe('the cycle finder itself', () => {
    const graphOf = (edges: Record<string, string[]>) => new Map(Object.entries(edges));

    it('finds a cycle once, whichever file the walk starts from', () => {
      expect(importCycles(graphOf({ 'c.ts': ['a.ts'], 'a.ts': ['b.ts'], 'b.ts': ['c.ts'] }))).toEqual([
        ['a.ts', 'b.ts', 'c.ts'],
      ]);
    });

    it('finds a file importing itself, and two cycles sharing a file', () => {
      const found = importCycles(
        graphOf({ 'a.ts': ['a.ts', 'b.ts'], 'b.ts': ['c.ts', 'd.ts'], 'c.ts': ['b.ts'], 'd.ts': ['b.ts'] }),
      );
      expect(found).toEqual([['a.ts'], ['b.ts', 'c.ts'], ['b.ts', 'd.ts']]);
    });

    it('finds none in a diamond', () => {
      expect(
        importCycles(graphOf({ 'a.ts': ['b.ts', 'c.ts'], 'b.ts': ['d.ts'], 'c.ts': ['d.ts'], 'd.ts': [] })),
      ).toEqual([]);
    });

    it('follows relative imports of every form to our files only', () => {
      const graph = importGraph(
        new Map([
          [
            join('cli', 'a.ts'),
            "import type { B } from './b.ts';\nconst c = await import('../core/c.ts');\nimport 'zod';",
          ],
          [join('cli', 'b.ts'), "export { a } from './a.ts';"],
          [join('core', 'c.ts'), ''],
        ]),
      );
      expect(graph.get(join('cli', 'a.ts'))).toEqual([join('cli', 'b.ts'), join('core', 'c.ts')]);
      expect(importCycles(graph)).toEqual([[join('cli', 'a.ts'), join('cli', 'b.ts')]]);
    });
  });
});
