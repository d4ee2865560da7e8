import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { jsonText, safeLines } from '../../src/cli/output.js';
import { InputError } from '../../src/errors.js';
import { ConnectorRegistry } from '../../src/registry/connector-registry.js';
import { createAjv } from '../../src/registry/create-ajv.js';
import { checkName, checkPrintable } from '../../src/text/check-printable.js';
import { terminalSafe } from '../../src/text/terminal-safe.js';
import { firstRefused, TEXT_MESSAGES, TEXT_PATTERNS } from '../../src/text/text-rule.js';

const schema = JSON.parse(readFileSync(new URL('../../schemas/text.schema.json', import.meta.url), 'utf8'));

/** One of each class of character the rule refuses, by what it does. */
const REFUSED: [string, string][] = [
  ['NUL', '\u0000'],
  ['ESC (starts an escape sequence)', '\u001b'],
  ['BEL (ends an OSC title)', '\u0007'],
  ['CR (overwrites the line)', '\r'],
  ['DEL', '\u007f'],
  ['C1 CSI (an escape sequence in one byte)', '\u009b'],
  ['C1 OSC', '\u009d'],
  ['NEL', '\u0085'],
  ['line separator', '\u2028'],
  ['paragraph separator', '\u2029'],
  ['left-to-right mark', '\u200e'],
  ['right-to-left mark', '\u200f'],
  ['Arabic letter mark', '\u061c'],
  ['left-to-right embedding', '\u202a'],
  ['right-to-left override', '\u202e'],
  ['left-to-right isolate', '\u2066'],
  ['pop directional isolate', '\u2069'],
  ['zero-width space', '\u200b'],
  ['zero-width non-joiner', '\u200c'],
  ['zero-width joiner', '\u200d'],
  ['word joiner', '\u2060'],
  ['invisible times', '\u2062'],
  ['byte order mark', '\ufeff'],
  ['soft hyphen', '\u00ad'],
  ['Mongolian vowel separator', '\u180e'],
  ['Hangul filler', '\u3164'],
  ['interlinear annotation anchor', '\ufff9'],
];

const ALLOWED = [
  'Support',
  'Café Zoë',
  'Ünïcödé — ñ',
  '東京の連絡先',
  '한국어 이름',
  'العربية',
  'עברית',
  '🚀 Launch',
  '👍🏽',
  '🇫🇷 France',
  'a\u00a0b (no-break space)',
  'x'.repeat(300),
];

describe('the text rule', () => {
  it.each(REFUSED)('refuses %s in one line, naming the field and the code point (never the character)', (_what, char) => {
    const attempt = () => checkPrintable(`prod${char}uction`, 'name');
    expect(attempt).toThrow(InputError);
    expect(attempt).toThrow(
      `name ${TEXT_MESSAGES.singleLine} (found U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`,
    );
    try {
      attempt();
    } catch (error) {
      expect((error as InputError).field).toBe('name');
      expect((error as Error).message).not.toContain(char);
    }
  });

  it('takes ordinary text in any script, with accents and emoji', () => {
    for (const text of ALLOWED) expect([text, firstRefused(text)]).toEqual([text, undefined]);
    for (const text of ALLOWED) expect(checkPrintable(text, 'name')).toBe(text);
  });

  it('lets a multi-line text (a description) keep line feeds and tabs, and nothing else the one-line rule refuses', () => {
    expect(firstRefused('line one\nline two\tindented', 'multiLine')).toBeUndefined();
    for (const [what, char] of REFUSED.filter(([, c]) => c !== '\n' && c !== '\t'))
      expect([what, firstRefused(`a${char}b`, 'multiLine')]).not.toEqual([what, undefined]);
    expect(firstRefused('a\nb')).toBe('U+000A');
    expect(firstRefused('a\tb')).toBe('U+0009');
  });

  it('names: printable, then trimmed to 1-100 characters', () => {
    expect(checkName('  Café  ')).toBe('Café');
    expect(() => checkName('ok\u202e', 'name')).toThrow('(found U+202E)');
    expect(() => checkName('   ')).toThrow('name must be 1-100 characters');
    expect(() => checkName(7)).toThrow('name must be 1-100 characters');
  });
});

describe('one rule: the schema, the services and terminalSafe refuse the same characters', () => {
  it('schemas/text.schema.json carries the service patterns and messages, character for character', () => {
    expect(schema.$id).toBe('https://credport.dev/schemas/text.schema.json');
    for (const kind of ['singleLine', 'multiLine'] as const) {
      expect(schema.definitions[kind].pattern).toBe(TEXT_PATTERNS[kind]);
      expect(schema.definitions[kind]['x-pattern-message']).toBe(TEXT_MESSAGES[kind]);
    }
  });

  it('over every code point of the Basic Multilingual Plane, ajv with the schema and the service agree; terminalSafe leaves none of the refused', () => {
    const ajv = createAjv();
    ajv.addSchema(schema);
    const validate = {
      singleLine: ajv.getSchema(`${schema.$id}#/definitions/singleLine`)!,
      multiLine: ajv.getSchema(`${schema.$id}#/definitions/multiLine`)!,
    };
    const disagree: string[] = [];
    let refused = 0;
    for (let code = 0; code <= 0xffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue; // lone surrogates are not text
      const text = `a${String.fromCharCode(code)}b`;
      for (const kind of ['singleLine', 'multiLine'] as const) {
        const byService = firstRefused(text, kind) === undefined;
        if (validate[kind](text) !== byService) disagree.push(`${kind} U+${code.toString(16)}`);
        if (kind === 'singleLine' && !byService) {
          refused++;
          if (firstRefused(terminalSafe(text)) !== undefined) disagree.push(`terminalSafe U+${code.toString(16)}`);
        }
      }
    }
    expect(disagree).toEqual([]);
    expect(refused).toBe(103); // 65 C0, DEL and C1, and 38 format and invisible characters
  });

  it('the Credential Name and Description on every form refer to the rule (the form a renderer gets has it inlined)', async () => {
    const registry = await ConnectorRegistry.load();
    for (const connector of registry.list()) {
      const properties = registry.form(connector.id).schema.properties as Record<string, Record<string, unknown>>;
      expect([connector.id, properties.name!.pattern, properties.name!['x-pattern-message']]).toEqual([
        connector.id,
        TEXT_PATTERNS.singleLine,
        TEXT_MESSAGES.singleLine,
      ]);
      expect([connector.id, properties.description!.pattern]).toEqual([connector.id, TEXT_PATTERNS.multiLine]);
    }
    expect(() => registry.validateCommonFields({ name: 'pro\u200bduction' })).toThrow(`Credential Name (name) ${TEXT_MESSAGES.singleLine}`);
  });
});

describe('printing stored text', () => {
  const hostile = 'a\u001b]0;owned\u0007b\u009b2Jc\u202ed\u200be\u0085f';

  it('terminalSafe turns every refused run into one space', () => {
    expect(terminalSafe(hostile)).toBe('a ]0;owned b 2Jc d e f');
    expect(terminalSafe('Café 🚀 東京')).toBe('Café 🚀 東京');
  });

  it('safeLines keeps the line breaks between lines and cleans each one', () => {
    expect(safeLines(`one${hostile}\ntwo`)).toBe('onea ]0;owned b 2Jc d e f\ntwo');
  });

  it('jsonText escapes what JSON.stringify leaves raw, and parses back to the same value', () => {
    const value = { name: hostile, plain: 'Café 🚀' };
    expect(JSON.stringify(value)).toMatch(/[\u009b\u202e\u200b\u0085]/); // what JSON.stringify leaves
    const text = jsonText(value, 2);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e\u200b]/);
    expect(JSON.parse(text)).toEqual(value);
    expect(text).toContain('Café 🚀');
  });
});
