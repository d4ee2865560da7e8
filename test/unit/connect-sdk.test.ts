import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import type { ConnectEvent } from '../../src/generated/connect-event.js';
import { checkConnectOptions, openConnect, readPageMessage, sessionIdFromToken } from '../../src/sdk/connect.js';

// The SDK's pure parts: the session id it opens, the options it refuses before opening anything,
// and which page messages it reads. The browser half is test/browser/connect-sdk.test.ts.

const SECRET = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcde';
const TOKEN = `ccs_0123456789abcdef.${SECRET}`;
const valid = { serverUrl: 'https://credport.example.com', sessionToken: TOKEN, onEvent: () => {} };

/** The TypeError openConnect throws for these options (before it touches the DOM: jest has none). */
function refusal(options: Record<string, unknown>): TypeError {
  try {
    openConnect(options as never);
  } catch (error) {
    return error as TypeError;
  }
  throw new Error('not refused');
}

describe('sessionIdFromToken', () => {
  it('is csn_ and the token’s id part, never its secret', () => {
    expect(sessionIdFromToken(TOKEN)).toBe('csn_0123456789abcdef');
    expect(sessionIdFromToken(`ccs_${'a'.repeat(32)}.${SECRET}`)).toBe(`csn_${'a'.repeat(32)}`);
  });

  it.each([
    ['another prefix', `cpt_0123456789abcdef.${SECRET}`],
    ['an id too short', `ccs_0123456789abcde.${SECRET}`],
    ['an id in capitals', `ccs_0123456789ABCDEF.${SECRET}`],
    ['a short secret', `ccs_0123456789abcdef.${SECRET.slice(1)}`],
    ['no secret', 'ccs_0123456789abcdef'],
    ['text around it', ` ${TOKEN}`],
    ['a line break after it', `${TOKEN}\n`],
  ])('refuses %s with a TypeError naming sessionToken and not echoing the token', (_why, token) => {
    expect(() => sessionIdFromToken(token)).toThrow(TypeError);
    expect(() => sessionIdFromToken(token)).toThrow(/sessionToken/);
    expect(refusal({ ...valid, sessionToken: token }).message).not.toContain(SECRET.slice(0, 20));
  });
});

describe('openConnect refuses bad options up front, naming the option', () => {
  it.each([
    ['no options', undefined, 'options'],
    ['a serverUrl that is not a string', { serverUrl: 42 }, 'serverUrl'],
    ['a serverUrl that is not a URL', { serverUrl: 'credport.example.com' }, 'serverUrl'],
    ['a serverUrl on ftp', { serverUrl: 'ftp://credport.example.com' }, 'serverUrl'],
    ['a serverUrl on plain http away from loopback', { serverUrl: 'http://credport.example.com' }, 'serverUrl'],
    ['a serverUrl on plain http to a name that only starts like loopback', { serverUrl: 'http://127.0.0.1.example.com' }, 'serverUrl'],
    ['a serverUrl with a path', { serverUrl: 'https://credport.example.com/connect' }, 'serverUrl'],
    ['a serverUrl with a query', { serverUrl: 'https://credport.example.com/?next=1' }, 'serverUrl'],
    ['a serverUrl with an empty query', { serverUrl: 'https://credport.example.com?' }, 'serverUrl'],
    ['a serverUrl with a fragment', { serverUrl: 'https://credport.example.com/#x' }, 'serverUrl'],
    ['a serverUrl with user info', { serverUrl: 'https://user:pw@credport.example.com' }, 'serverUrl'],
    ['a missing sessionToken', { sessionToken: undefined }, 'sessionToken'],
    ['a sessionToken of another shape', { sessionToken: 'cpt_abc' }, 'sessionToken'],
    ['a container that is not an element', { container: '#connect' }, 'container'],
    ['a container that is a text node', { container: { nodeType: 3 } }, 'container'],
    ['a container with popup', { container: { nodeType: 1 }, popup: true }, 'container'],
    ['a popup that is not a boolean', { popup: 'yes' }, 'popup'],
    ['no onEvent', { onEvent: undefined }, 'onEvent'],
    ['an onEvent that is not a function', { onEvent: 'handler' }, 'onEvent'],
    ['an appearance that is not an object', { appearance: 'dark' }, 'appearance'],
    ['an unknown colorScheme', { appearance: { colorScheme: 'blue' } }, 'appearance.colorScheme'],
    ['an accent that is not #rrggbb', { appearance: { accent: 'red' } }, 'appearance.accent'],
    ['an accent with CSS after it', { appearance: { accent: '#112233; background: url(x)' } }, 'appearance.accent'],
    ['an unknown appearance option', { appearance: { font: 'Comic Sans' } }, 'appearance.font'],
  ])('%s', (_why, change, option) => {
    const error = refusal(change === undefined ? (undefined as never) : { ...valid, ...change });
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(new RegExp(`^credport Connect: ${option.replace('.', '\\.')} `));
  });

  it.each([
    'https://credport.example.com',
    'https://credport.example.com/',
    'https://credport.example.com:8443',
    'http://127.0.0.1:4000',
    'http://localhost:4000',
    'http://[::1]:4000',
  ])('takes %s as the server, by its origin', (serverUrl) => {
    expect(checkConnectOptions({ ...valid, serverUrl }).serverOrigin).toBe(new URL(serverUrl).origin);
  });

  it('derives the session id and keeps only the appearance options it knows, on a fresh object', () => {
    const appearance = { colorScheme: 'dark', accent: '#0a7cff' };
    const checked = checkConnectOptions({ ...valid, appearance, popup: false });
    expect(checked.sessionId).toBe('csn_0123456789abcdef');
    expect(checked.appearance).toEqual(appearance);
    expect(checked.appearance).not.toBe(appearance);
    expect(checked.popup).toBe(false);
    expect(checkConnectOptions(valid).appearance).toBeUndefined();
  });
});

describe('readPageMessage', () => {
  const tile = { id: 'cred_1', connector: 'front', name: 'Front', status: 'verified', revision: 0, createdAt: 'x', updatedAt: 'x' };
  const wire = (type: string, payload: unknown, extra: Record<string, unknown> = {}) => ({
    source: 'credport',
    version: 1,
    type,
    payload,
    ...extra,
  });

  it('reads hello and each event the page sends, as the ConnectEvent the host receives', () => {
    expect(readPageMessage(wire('hello', { sessionId: 'csn_0123456789abcdef' }))).toEqual({
      type: 'hello',
      sessionId: 'csn_0123456789abcdef',
    });
    expect(readPageMessage(wire('ready', { sessionId: 'csn_0123456789abcdef', mode: 'pick' }))).toEqual({
      type: 'event',
      event: { type: 'ready', payload: { sessionId: 'csn_0123456789abcdef', mode: 'pick' } },
    });
    for (const type of ['credential.created', 'credential.selected', 'credential.reconnected'])
      expect(readPageMessage(wire(type, { tile }))).toEqual({ type: 'event', event: { type, payload: { tile } } });
    expect(readPageMessage(wire('error', { code: 'connect_token_used', status: 410, detail: 'used' }))).toEqual({
      type: 'event',
      event: { type: 'error', payload: { code: 'connect_token_used', status: 410, detail: 'used' } },
    });
    for (const reason of ['completed', 'cancelled', 'error'])
      expect(readPageMessage(wire('close', { reason }))).toEqual({ type: 'event', event: { type: 'close', payload: { reason } } });
  });

  it.each([
    ['another source', { ...wire('ready', { sessionId: 'csn_0123456789abcdef', mode: 'pick' }), source: 'other' }],
    ['another version', { ...wire('ready', { sessionId: 'csn_0123456789abcdef', mode: 'pick' }), version: 2 }],
    ['a version as text', { ...wire('ready', { sessionId: 'csn_0123456789abcdef', mode: 'pick' }), version: '1' }],
    ['no payload', { source: 'credport', version: 1, type: 'ready' }],
    ['a string', 'credport:ready'],
    ['null', null],
    ['an array', [wire('ready', {})]],
    ['the token message (host to page only)', wire('token', { sessionToken: TOKEN })],
    ['an unknown type', wire('credential.deleted', { tile })],
    ['a hello without a session id', wire('hello', {})],
    ['ready in an unknown mode', wire('ready', { sessionId: 'csn_0123456789abcdef', mode: 'admin' })],
    ['a tile event without a tile', wire('credential.created', {})],
    ['a tile without an id', wire('credential.created', { tile: { name: 'x' } })],
    ['an error without a status', wire('error', { code: 'x', detail: 'y' })],
    ['an error with a fractional status', wire('error', { code: 'x', status: 4.5, detail: 'y' })],
    ['a close for the host (only the SDK closes for the host)', wire('close', { reason: 'host' })],
    ['a close for a closed popup (only the SDK sees that)', wire('close', { reason: 'popup-closed' })],
  ])('ignores %s', (_why, data) => {
    expect(readPageMessage(data)).toBeUndefined();
  });
});

describe('the module the host loads', () => {
  it('is one standalone ES module: type imports only, so dist/sdk/connect.js runs as served at /connect/sdk.js', () => {
    const source = readFileSync(new URL('../../src/sdk/connect.ts', import.meta.url), 'utf8');
    const imports = source.split('\n').filter((line) => /^\s*(import|export)\b.*\bfrom\b/.test(line) || /^\s*import\s/.test(line));
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((line) => !/^\s*(import|export) type\b/.test(line))).toEqual([]);
    const built = readFileSync(new URL('../../dist/sdk/connect.js', import.meta.url), 'utf8');
    expect(built).not.toMatch(/^\s*import\b|\bimport\(|\brequire\(/m);
    expect(built).toMatch(/^export function openConnect\(/m);
  });

  it('is exported as credport/connect with its types', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(pkg.exports['./connect']).toEqual({ types: './dist/sdk/connect.d.ts', default: './dist/sdk/connect.js' });
  });
});

/** Type-checked by `npm run typecheck`, never run: onEvent's argument narrows by its type. */
function typedEvents(): void {
  openConnect({
    ...valid,
    onEvent: (event: ConnectEvent) => {
      if (event.type === 'credential.created') {
        const id: string = event.payload.tile.id;
        // @ts-expect-error: a tile never carries the secret
        void event.payload.tile.secret;
        void id;
      }
      if (event.type === 'close') {
        const reason: 'completed' | 'cancelled' | 'host' | 'popup-closed' | 'error' = event.payload.reason;
        void reason;
      }
    },
  });
}

it('hands onEvent the ConnectEvent union, narrowed by type (checked by tsc: typedEvents above)', () => {
  expect(typedEvents).toBeInstanceOf(Function);
});
