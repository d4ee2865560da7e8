import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

// The postgres and redis jest projects run the suites jest.config.js lists, one path each. A suite
// that picks its store through test/helpers/test-store.ts (testStoreUri, STORE_KIND) or reads the
// CREDPORT_TEST_STORE global is written to run on every store; left off that list, it quietly runs
// on SQLite alone. Suites that only use rawStore/storedBytes pass their own store URI, so they
// run on one store whatever the project, and need not be listed.

const root = fileURLToPath(new URL('../../', import.meta.url));
// A path in a variable: TypeScript leaves the plain-JS config untyped instead of refusing it.
const configPath = '../../jest.config.js';
// This file quotes the patterns it looks for; it is no store suite.
const self = relative(root, fileURLToPath(import.meta.url));

async function listedSuites(): Promise<string[]> {
  const config = (await import(configPath)) as { storeSuites: string[] };
  return config.storeSuites;
}

async function testFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(root, dir), { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.test.ts'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

/** Whether a suite's store follows the jest project it runs in. */
function followsProjectStore(source: string): boolean {
  if (source.includes('CREDPORT_TEST_STORE')) return true;
  const imports = source.matchAll(/import\s*\{([^}]*)\}\s*from\s*['"][./]*helpers\/test-store(?:\.js)?['"]/g);
  return [...imports].some(([, names]) => /\b(testStoreUri|STORE_KIND)\b/.test(names ?? ''));
}

describe('the server-store jest projects', () => {
  it('list every suite that picks its store through the per-store helper', async () => {
    const listed = new Set(await listedSuites());
    const unlisted: string[] = [];
    for (const file of await testFiles('test')) {
      if (file === self) continue;
      if (followsProjectStore(await readFile(join(root, file), 'utf8')) && !listed.has(file)) unlisted.push(file);
    }
    expect(unlisted).toEqual([]);
  });

  it('list only files that exist, each once', async () => {
    const listed = await listedSuites();
    expect(listed.filter((file) => !existsSync(join(root, file)))).toEqual([]);
    expect(listed.filter((file, i) => listed.indexOf(file) !== i)).toEqual([]);
  });

  it('tell a suite on the project store from one that names its own', () => {
    expect(followsProjectStore("import { testStoreUri } from '../helpers/test-store.js';")).toBe(true);
    expect(followsProjectStore("import { rawStore, STORE_KIND } from '../helpers/test-store.js';")).toBe(true);
    expect(followsProjectStore('const kind = globalThis.CREDPORT_TEST_STORE;')).toBe(true);
    expect(followsProjectStore("import { rawStore } from '../helpers/test-store.js';")).toBe(false);
    expect(followsProjectStore("import { testStoreUri } from '../helpers/other.js';")).toBe(false);
  });
});
