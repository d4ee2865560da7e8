import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { API_TOKEN, type ApiUnderTest, startApi } from '../helpers/api-server.js';
import type { JsonBody } from '../helpers/json-body.js';

// GET /api/v1/openapi.json as a host engineer takes it: fetched from the running server, judged by
// the tools of the field (Redocly's linter, swagger-parser's validator), not by a check written here.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Found the way node finds the package (not at ROOT/node_modules/.bin: a mutation-testing sandbox or a
// workspace may keep node_modules elsewhere), and run with this node.
const REDOCLY_PACKAGE = createRequire(import.meta.url).resolve('@redocly/cli/package.json');
const REDOCLY = join(
  dirname(REDOCLY_PACKAGE),
  (JSON.parse(readFileSync(REDOCLY_PACKAGE, 'utf8')) as { bin: { redocly: string } }).bin.redocly,
);
const REDOCLY_CONFIG = join(ROOT, 'test', 'openapi', 'redocly.yaml');
const VALIDATE = join(ROOT, 'test', 'helpers', 'validate-openapi.mjs');
const SERVER_DOC = join(ROOT, 'docs', 'server-and-api.md');
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

let api: ApiUnderTest;
let document: JsonBody;
/** The served document as a file, for the linter. */
let file: string;

beforeAll(async () => {
  api = await startApi();
  const answer = await fetch(`${api.url}/api/v1/openapi.json`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  expect(answer.status).toBe(200);
  const text = await answer.text();
  document = JSON.parse(text) as JsonBody;
  file = join(api.home, 'openapi.json');
  await writeFile(file, text);
});
afterAll(() => api.close());

/** Every operation of the document: its operationId, method and path. */
function operations(): { id: string | undefined; method: string; path: string }[] {
  return Object.entries<Record<string, JsonBody>>(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => ({ id: operation.operationId, method: method.toUpperCase(), path })),
  );
}

describe('the served OpenAPI document', () => {
  it('passes `redocly lint` with the recommended rules and the house rules: no error, no warning', async () => {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [REDOCLY, 'lint', file, '--config', REDOCLY_CONFIG, '--format=json'],
      {
        // Offline: no telemetry, no update check (the config says telemetry: off as well).
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true' },
        maxBuffer: 16 * 1024 * 1024,
      },
    ).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? '' }));
    // No report at all: say what redocly said instead of a JSON syntax error.
    expect(stdout.trim() === '' ? stderr : 'a report').toBe('a report');
    const report = JSON.parse(stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string }[] };
    // The problems themselves, so a failure says which rule and where.
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('is valid for swagger-parser, every $ref resolved inside it', async () => {
    // Run from an empty folder: a relative $ref finds no file beside it there.
    const empty = join(api.home, 'empty');
    await mkdir(empty);
    const { stdout } = await promisify(execFile)(process.execPath, [VALIDATE, file], { cwd: empty }).catch(
      (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
    );
    expect(stdout.trim()).toBe('valid');
  });

  it('says how each growing list is paged: limit (a number, 1 to 500), cursor, and the Link header to the next page', () => {
    for (const path of ['/api/v1/credentials', '/api/v1/sources', '/api/v1/destinations', '/api/v1/audit']) {
      const list = document.paths[path].get;
      const parameter = (name: string) => list.parameters.find((p: JsonBody) => p.in === 'query' && p.name === name);
      expect([path, parameter('limit')?.schema]).toEqual([path, expect.objectContaining({ type: 'integer', minimum: 1, maximum: 500 })]);
      expect([path, parameter('cursor')?.schema]).toEqual([path, expect.objectContaining({ type: 'string' })]);
      expect([path, Object.keys(list.responses['200'].headers ?? {})]).toEqual([path, ['Link']]);
    }
  });

  it('names every operation, with the names docs/server-and-api.md lists', () => {
    const documented = [...readFileSync(SERVER_DOC, 'utf8').matchAll(/^\| `(\w+)` \| `([A-Z]+ [^`]+)` \|/gm)].map(
      ([, id, route]) => `${id} ${route}`,
    );
    const served = operations().map(({ id, method, path }) => `${id} ${method} ${path.replace(/^\/api\/v1/, '')}`);
    expect(served.sort()).toEqual(documented.sort());
  });
});
