import { describe, expect, it } from '@jest/globals';
import type { ConnectSessionRecord } from '../../src/connect/connect-sessions.js';
import type { CredentialRecord } from '../../src/credentials/credential-record.js';
import { InputError, ProviderRejectedError } from '../../src/errors.js';
import type { SyncSummary } from '../../src/generated/sync-summary.js';
import type { WebhookEventType } from '../../src/generated/webhook-event-type.js';
import {
  connectSessionEventData,
  credentialEventData,
  credentialLanded,
  syncFailedData,
  syncSucceededData,
} from '../../src/webhooks/webhook-events.js';
import { eventProblem, schemaFileOf, webhookSchema } from '../helpers/webhook-event-contract.js';

// Each event's schema (schemas/webhook-event-<type>.schema.json) compiles, a body built by the
// payload builders validates against it and against webhook-event.schema.json (what a receiver
// checks), and no payload carries a sealed value, a secret or an email.

const SECRET = 'eyJsecret.value-that-must-never-travel.0123456789abcdef';
const EMAIL = 'ada@example.com';
const TYPES: WebhookEventType[] = [
  'credential.created',
  'credential.verified',
  'credential.invalidated',
  'credential.recovered',
  'credential.rotated',
  'credential.deleted',
  'connect.session.completed',
  'sync.succeeded',
  'sync.failed',
];

const record: CredentialRecord = {
  v: 1,
  id: 'cred_0123456789abcdef',
  workspace: 'acme',
  connector: 'front',
  name: 'Support inbox',
  status: 'invalid',
  createdAt: '2026-12-07T12:00:00.000Z',
  updatedAt: '2026-12-07T12:05:00.000Z',
  invalidAt: '2026-12-07T12:05:00.000Z',
  invalidReason: 'Front rejected the credential: 401 Unauthenticated',
  invalidCause: 'reverify',
  secretHint: 'cdef',
  sealed: { alg: 'A256GCM', kid: 'k1', iv: 'aXY=', tag: 'dGFn', ct: 'Y2lwaGVydGV4dC1vZi10aGUtc2VjcmV0' },
  baseUrlBy: 'operator',
  events: [{ id: 'msg_0000000000001_000000000001', types: ['credential.invalidated'] }],
  rev: 3,
};

const session: ConnectSessionRecord = {
  id: 'csn_0123456789abcdef',
  workspace: 'acme',
  mode: 'reconnect',
  endUser: { id: 'user-42', email: EMAIL, displayName: 'Ada' } as ConnectSessionRecord['endUser'],
  allowedOrigins: ['https://app.example.com'],
  connectors: ['front'],
  credentialId: record.id,
  createdAt: '2026-12-07T12:00:00.000Z',
  expiresAt: '2026-12-07T12:30:00.000Z',
  outcome: { action: 'repaired', credentialId: record.id, at: '2026-12-07T12:06:00.000Z' },
  tokenHash: 'a'.repeat(64),
  bearerHash: 'b'.repeat(64),
};

const summary: SyncSummary = {
  source: 'src_1',
  destination: 'dst_1',
  streams: { conversations: { records: 3, pages: 1, sent: 3, rejected: 0, skipped: 0 } },
  records: 3,
  pages: 1,
  sent: 3,
  rejected: 0,
  skipped: 0,
  rateLimited: 0,
  retries: 0,
  ms: 12,
};

function dataOf(type: WebhookEventType): Record<string, unknown> {
  if (type.startsWith('credential.')) return credentialEventData(record, type);
  if (type === 'connect.session.completed') return connectSessionEventData(session) as unknown as Record<string, unknown>;
  const sync = { sourceId: 'src_1', destinationId: 'dst_1', jobId: 'sync_1' };
  if (type === 'sync.succeeded') return syncSucceededData('acme', sync, summary) as unknown as Record<string, unknown>;
  return syncFailedData('acme', sync, new ProviderRejectedError('Front rejected the credential: 401', 401)) as unknown as Record<
    string,
    unknown
  >;
}

const bodyOf = (type: WebhookEventType) => ({ type, timestamp: '2026-12-07T12:06:00.000Z', data: dataOf(type) });

describe('webhook event schemas and payloads', () => {
  it.each(TYPES)('%s: its schema compiles, and a body built by the builders validates against it and webhook-event', (type) => {
    const body = bodyOf(type);
    expect(eventProblem(body)).toBeUndefined();
    expect(body.data.workspace).toBe('acme');
  });

  it.each(TYPES)('%s: a body of another type, or one with a field of its own added, is refused', (type) => {
    const own = webhookSchema(schemaFileOf(type));
    const other = TYPES[(TYPES.indexOf(type) + 1) % TYPES.length]!;
    expect(own({ ...bodyOf(type), type: other })).toBe(false);
    expect(own({ ...bodyOf(type), data: { ...bodyOf(type).data, sealed: record.sealed } })).toBe(false);
    const { workspace: _w, ...noWorkspace } = bodyOf(type).data;
    expect(own({ ...bodyOf(type), data: noWorkspace })).toBe(false);
  });

  it('no payload carries the sealed value, the secret, the end user email or a hash', () => {
    for (const type of TYPES) {
      const text = JSON.stringify(bodyOf(type));
      for (const banned of ['sealed', record.sealed.ct, SECRET, EMAIL, 'tokenHash', 'bearerHash', 'a'.repeat(64), 'baseUrlBy', 'msg_'])
        expect([type, text.includes(banned)]).toEqual([type, false]);
    }
  });

  it('credential.invalidated says what found it refused, with the provider words on the tile', () => {
    expect(credentialEventData(record, 'credential.invalidated')).toEqual({
      workspace: 'acme',
      credential: expect.objectContaining({ status: 'invalid', invalidAt: record.invalidAt, invalidReason: record.invalidReason }),
      cause: 'reverify',
    });
    expect(credentialEventData(record, 'credential.deleted')).not.toHaveProperty('cause');
    expect(credentialLanded(record).marks).toEqual(record.events);
    expect(credentialEventData({ ...record, workspace: undefined }, 'credential.created').workspace).toBe('default');
  });

  it("sync.failed names a credport error's code and message, and any other error only as internal", () => {
    const sync = { sourceId: 'src_1', destinationId: 'dst_1' };
    expect(syncFailedData('acme', sync, new InputError('no such stream', { code: 'invalid_input' })).error).toEqual({
      code: 'invalid_input',
      message: 'no such stream',
    });
    expect(syncFailedData('acme', sync, new Error(`connect ECONNREFUSED with ${SECRET}`))).toEqual({
      workspace: 'acme',
      sync,
      error: { code: 'internal', message: 'internal error' },
    });
  });
});

describe('webhook-event.schema.json', () => {
  it('is the oneOf of exactly the nine event types a webhook endpoint subscribes to', async () => {
    const { readFileSync } = await import('node:fs');
    const read = (file: string) => JSON.parse(readFileSync(new URL(`../../schemas/${file}`, import.meta.url), 'utf8'));
    const union = read('webhook-event.schema.json') as { oneOf: { $ref: string }[] };
    expect(union.oneOf.map((r) => r.$ref.replace('https://credport.dev/schemas/', ''))).toEqual(TYPES.map(schemaFileOf));
    expect(read('webhook-event-type.schema.json').enum).toEqual(TYPES);
  });
});
