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
