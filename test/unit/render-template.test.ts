import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { checkConcurrency } from '../../src/sync/concurrency.js';
import { RejectsFile } from '../../src/sync/rejects-file.js';
import { encodePathValue, firstRendered, renderTemplate, templateParams } from '../../src/sync/render-template.js';

// The templates that make a write's path, its ledger key and its lookup: a wrong value here writes
// to the wrong record, or sends a record's text where a path segment goes.

describe('a template', () => {
  it('reads own parameters only, and refuses a pointer through a prototype slot', () => {
    // A value the parameters only inherit (a polluted prototype) is no parameter.
    expect(renderTemplate('/i/{inbox_id}', {}, Object.create({ inbox_id: 'inb_inherited' }) as Record<string, string>)).toBeUndefined();
    expect(renderTemplate('/i/{constructor}', {}, {})).toBeUndefined();
    expect(() => renderTemplate('/m/{/__proto__/id}', JSON.parse('{"__proto__":{"id":"x"}}'), {})).toThrow(
      '"__proto__" cannot be a segment of a JSON pointer',
    );
  });

  it('fills record fields and parameters, numbers included', () => {
    expect(renderTemplate('/inboxes/{inbox_id}/m/{/id}', { id: 7 }, { inbox_id: 'inb_1' })).toBe('/inboxes/inb_1/m/7');
    expect(renderTemplate('{/a}:{/b}', { a: 'x', b: 0 }, {})).toBe('x:0');
  });

  it('is undefined when a value is missing, empty, or not text or a number, so the next template is tried', () => {
    for (const body of [{}, { id: '' }, { id: null }, { id: true }, { id: { x: 1 } }])
      expect(renderTemplate('/m/{/id}', body, {})).toBeUndefined();
    expect(renderTemplate('/i/{inbox_id}', {}, { inbox_id: '' })).toBeUndefined();
    expect(firstRendered(['external_id:{/external_id}', 'name:{/name}'], { name: 'Acme' }, {})).toBe('name:Acme');
    expect(firstRendered(['{/x}'], {}, {})).toBeUndefined();
    expect(firstRendered(undefined, {}, {})).toBeUndefined();
  });

  it('percent-encodes values in a path and refuses dot segments, however they are written', () => {
    expect(renderTemplate('/c/{/h}', { h: 'a/b?c#d' }, {}, encodePathValue)).toBe('/c/a%2Fb%3Fc%23d');
    for (const value of ['.', '..', '%2e', '%2E%2e', '.%2e'])
      expect(() => encodePathValue(value)).toThrow(`"${value}" cannot be a path segment`);
    for (const value of ['...', 'a.', '.a', '%2e%2e%2e', 'x%2e']) expect(() => encodePathValue(value)).not.toThrow();
    expect(() => encodePathValue('\uD800')).toThrow('a value used in the path is not well-formed Unicode');
  });

  it('names the destination parameters it needs, not the record fields', () => {
    expect(templateParams('/inboxes/{inbox_id}/x/{/id}/{channel}')).toEqual(['inbox_id', 'channel']);
    expect(templateParams('/contacts')).toEqual([]);
  });
});

describe('a concurrency', () => {
  it('is a whole number from 1 to 32', () => {
    expect(checkConcurrency(1)).toBe(1);
    expect(checkConcurrency(32)).toBe(32);
    for (const value of [0, 33, 1.5, Number.NaN])
      expect(() => checkConcurrency(value)).toThrow(
        expect.objectContaining({ field: 'concurrency', message: 'concurrency must be a whole number from 1 to 32' }),
      );
  });
});

describe('the rejects file', () => {
  it('is one private JSON line per refused record, in a private folder it makes, counted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'credport-rejects-'));
    try {
      const file = new RejectsFile(join(dir, 'syncs', 'a__b.rejects.jsonl'));
      await file.add({ stream: 'tags', row: 2, reason: 'bad', record: null });
      await file.add({ stream: 'tags', row: 3, reason: 'worse', record: { a: 1 } });
      expect(file.count).toBe(2);
      const lines = (await readFile(file.path, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toEqual([
        { at: expect.stringMatching(/^\d{4}-/), stream: 'tags', row: 2, reason: 'bad', record: null },
        { at: expect.stringMatching(/^\d{4}-/), stream: 'tags', row: 3, reason: 'worse', record: { a: 1 } },
      ]);
      expect((await stat(file.path)).mode & 0o777).toBe(0o600);
      expect((await stat(join(dir, 'syncs'))).mode & 0o777).toBe(0o700);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
