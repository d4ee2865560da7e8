// The provider writer's exactly-once promise, request by request: a write whose outcome is unknown
// (the connection dropped after sending, a 5xx, a pending ledger entry from a killed run) is checked
// with the provider or re-sent only where that is safe, never sent twice blindly. The client is
// scripted, so each test names exactly which requests the writer makes.
import { afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import Keyv from 'keyv';
import { ProviderRejectedError, ProviderUnavailableError } from '../../src/errors.js';
import type { ProviderClient } from '../../src/http/provider-client.js';
import { ConnectorRegistry } from '../../src/registry/connector-registry.js';
import { Collection } from '../../src/store/collection.js';
import type { Reject } from '../../src/sync/stream-io.js';
import { type LedgerEntry, ProviderWriter } from '../../src/sync/writers/provider-writer.js';

let registry: ConnectorRegistry;
beforeAll(async () => (registry = await ConnectorRegistry.load()));
// Retries wait a random share of their backoff: none here.
beforeEach(() => {
  jest.spyOn(Math, 'random').mockReturnValue(0);
});
afterEach(() => {
  jest.restoreAllMocks();
});

type Answer = 'ok' | Error;
const hangUp = () => new ProviderUnavailableError('Front did not answer POST: socket hang up');
const refused = () => new ProviderUnavailableError('Front cannot be reached: connect ECONNREFUSED 127.0.0.1:9');
const status = (code: number) => new ProviderUnavailableError(`Front answered ${code}`, { status: code });

/** A writer for one of Front's operations whose client answers from `script`, in order; returns what it asked. */
function writerFor(
  operationName: string,
  script: Answer[],
  options: { params?: Record<string, string>; ledger?: Keyv; mapping?: Record<string, string> } = {},
) {
  const operation = registry.get('front').operations.get(operationName)!;
  const asked: string[] = [];
  const rejects: Reject[] = [];
  const client = {
    request: async (r: { method: string; path: string }) => {
      asked.push(`${r.method} ${r.path}`);
      const answer = script.shift() ?? new Error(`unscripted ${r.method} ${r.path}`);
      if (answer !== 'ok') throw answer;
      return { status: 200, body: {}, headers: {} };
    },
  } as unknown as ProviderClient;
  const keyv = options.ledger ?? new Keyv();
  const ledger = new Collection<LedgerEntry>({ keyv, shown: 'memory' }, 'ledger:', (v) => v as LedgerEntry);
  const writer = new ProviderWriter({
    client,
    provider: 'Front',
    stream: 's',
    operationName,
    operation: operation.config,
    validate: operation.validate,
    mapping: options.mapping,
    params: options.params ?? {},
    ledger,
    ledgerScope: 'dst_1',
    reject: async (r) => void rejects.push(r),
  });
  const statuses = async () => (await Promise.all([...(await ledger.entries())].map(([, e]) => e as LedgerEntry))).map((e) => e.status);
  return { writer, asked, rejects, statuses, keyv };
}

const ada = { name: 'Ada', handles: [{ source: 'email', handle: 'ada@example.com' }] };
const ADA_LOOKUP = 'GET /contacts/alt:email:ada%40example.com';

describe('a write whose outcome is unknown', () => {
  it('is looked up before it is sent again, and counted as landed when the provider has it', async () => {
    const { writer, asked, statuses } = writerFor('contacts.create', [hangUp(), 'ok']);
    expect(await writer.write([ada], [1])).toEqual({ sent: 0, rejected: 0, skipped: 1 });
    expect(asked).toEqual(['POST /contacts', ADA_LOOKUP]);
    expect(await statuses()).toEqual(['done']);
  });

  it('is sent again when the lookup says the provider does not have it', async () => {
    const { writer, asked } = writerFor('contacts.create', [status(503), status(404), 'ok']);
    expect(await writer.write([ada], [1])).toEqual({ sent: 1, rejected: 0, skipped: 0 });
    expect(asked).toEqual(['POST /contacts', ADA_LOOKUP, 'POST /contacts']);
  });

  it('fails the sync when the lookup itself fails, leaving the entry pending for the next run', async () => {
    const { writer, asked, statuses } = writerFor('contacts.create', [hangUp(), status(500)]);
    await expect(writer.write([ada], [1])).rejects.toMatchObject({ status: 500 });
    expect(asked).toEqual(['POST /contacts', ADA_LOOKUP]);
    expect(await statuses()).toEqual(['pending']);
  });

  it('is checked first when a killed run left its ledger entry pending', async () => {
    const first = writerFor('contacts.create', [hangUp()]);
    jest.spyOn(Math, 'random').mockReturnValue(0);
    // The first run dies with the request in flight: its entry stays pending.
    const ledger = first.keyv;
    await first.writer.write([ada], [1]).catch(() => undefined);
    const rerun = writerFor('contacts.create', ['ok'], { ledger });
    expect(await rerun.writer.write([ada], [1])).toEqual({ sent: 0, rejected: 0, skipped: 1 });
    expect(rerun.asked).toEqual([ADA_LOOKUP]);
  });

  it('is sent again without a lookup when the connection was refused (nothing was sent)', async () => {
    const { writer, asked } = writerFor('contacts.create', [refused(), 'ok']);
    expect(await writer.write([ada], [1])).toEqual({ sent: 1, rejected: 0, skipped: 0 });
    expect(asked).toEqual(['POST /contacts', 'POST /contacts']);
  });

  it('goes to the rejects file when the provider offers no way to check and would duplicate it', async () => {
    const account = { name: 'Acme' }; // no external_id: no lookup path, and Front makes a second Acme
    const { writer, asked, rejects, statuses } = writerFor('accounts.create', [hangUp()]);
    expect(await writer.write([account], [7])).toEqual({ sent: 0, rejected: 1, skipped: 0 });
    expect(asked).toEqual(['POST /accounts']);
    expect(rejects).toEqual([
      {
        stream: 's',
        row: 7,
        key: 'name:Acme',
        status: 0,
        record: account,
        reason:
          'outcome unknown: an earlier attempt may have created it, and Front offers no way to check; check it there, then remove this row or send it again with a new destination',
      },
    ]);
    expect(await statuses()).toEqual(['rejected']);
  });

  it('is sent again where a 409 proves the first attempt landed (tag names), and that 409 counts as landed', async () => {
    const { writer, asked, rejects } = writerFor('tags.create', [hangUp(), status(409)]);
    expect(await writer.write([{ name: 'VIP' }], [1])).toEqual({ sent: 0, rejected: 0, skipped: 1 });
    expect(asked).toEqual(['POST /tags', 'POST /tags']);
    expect(rejects).toEqual([]);
  });

  it('is sent again where the provider deduplicates, with no lookup', async () => {
    const message = {
      external_id: 'm1',
      sender: { handle: 'a@example.com' },
      to: ['b@example.com'],
      body: 'hi',
      metadata: { is_inbound: true },
      created_at: 1,
    };
    const { writer, asked } = writerFor('messages.import', [hangUp(), 'ok'], { params: { inbox_id: 'inb_1' } });
    const outcome = await writer.write([message], [1]);
    expect(asked).toEqual(['POST /inboxes/inb_1/imported_messages', 'POST /inboxes/inb_1/imported_messages']);
    expect(outcome).toEqual({ sent: 1, rejected: 0, skipped: 0 });
  });

  it('gives up after 5 attempts with the last error, leaving the entry pending', async () => {
    const { writer, asked, statuses } = writerFor('tags.create', [status(503), status(503), status(503), status(503), status(502)]);
    await expect(writer.write([{ name: 'VIP' }], [1])).rejects.toMatchObject({ status: 502 });
    expect(asked).toEqual(Array(5).fill('POST /tags'));
    expect(await statuses()).toEqual(['pending']);
  });
});

describe('a record the provider or the schema refuses', () => {
  it('goes to the rejects file, named by its fields, without a request', async () => {
    const { writer, asked, rejects } = writerFor('tags.create', []);
    expect(await writer.write([{ colour: 'red' }], [3])).toEqual({ sent: 0, rejected: 1, skipped: 0 });
    expect(asked).toEqual([]);
    expect(rejects[0]).toMatchObject({
      row: 3,
      field: '/colour',
      reason: '/colour is not a field of the request body (unknown field); /name is required',
    });
    await writer.write([{ name: 5 }, 'just text'], [4, 5]);
    expect(rejects.slice(1).map((r) => [r.row, r.field, r.reason])).toEqual([
      [4, '/name', '/name must be string'],
      [5, '/', '/ must be object'],
    ]);
  });

  it.each([
    ['a value that is no path segment', { inbox_id: '..' }, '".." cannot be a path segment'],
    [
      'no value',
      {},
      "the request path /inboxes/{inbox_id}/imported_messages needs a value (text or a number) that neither the record nor the destination's parameters give",
    ],
  ])('goes to the rejects file when its path has %s, without a request', async (_what, params, reason) => {
    const { writer, asked, rejects } = writerFor('messages.import', [], { params });
    const message = {
      external_id: 'm1',
      sender: { handle: 'a@example.com' },
      to: ['b@example.com'],
      body: 'hi',
      metadata: { is_inbound: true },
      created_at: 1,
    };
    expect(await writer.write([message], [1])).toEqual({ sent: 0, rejected: 1, skipped: 0 });
    expect(asked).toEqual([]);
    expect(rejects[0]!.reason).toBe(reason);
  });

  it('a 401 stops the page at once: no record beyond those already in flight is sent', async () => {
    const tags = Array.from({ length: 10 }, (_, i) => ({ name: `t${i}` }));
    const { writer, asked } = writerFor('tags.create', [
      new ProviderRejectedError('Front rejected the credential: 401', 401),
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
    ]);
    await expect(writer.write(tags, [])).rejects.toBeInstanceOf(ProviderRejectedError);
    expect(asked[0]).toBe('POST /tags');
    expect(asked.length).toBeLessThanOrEqual(4); // the ones already in flight, four at a time
  });

  it('the same record twice in one page is written once, the second counted as skipped', async () => {
    const { writer, asked } = writerFor('tags.create', ['ok']);
    expect(await writer.write([{ name: 'VIP' }, { name: 'VIP' }], [1, 2])).toEqual({ sent: 1, rejected: 0, skipped: 1 });
    expect(asked).toEqual(['POST /tags']);
  });

  it("keeps a record's ledger key as earlier releases made it, so a rerun after an upgrade sends nothing twice", async () => {
    const { writer, keyv } = writerFor('tags.create', ['ok']);
    await writer.write([{ name: 'VIP' }], [1]);
    expect(await keyv.get('ledger:dst_1:b6008559cc3f336db8b4e83758cc07f1346c09e6')).toMatchObject({ status: 'done' });
  });
});

describe('a saved mapping whose pointers reach a prototype slot, met at sync time', () => {
  it.each<Record<string, string>>([
    { '/__proto__/baseUrl': '/name' },
    { '/constructor/prototype/baseUrl': '/name' },
    { '/name': '/name', '/x': '/__proto__' },
  ])('rejects each record with %j unsent, into the rejects file, and sets nothing on any prototype', async (mapping) => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const { writer, asked, rejects, statuses } = writerFor('tags.create', [], { mapping });
    expect(await writer.write([{ name: 'https://attacker.example' }, { name: 'b' }], [1, 2])).toEqual({ sent: 0, rejected: 2, skipped: 0 });
    expect(asked).toEqual([]);
    expect(rejects.map((r) => [r.row, r.field])).toEqual([
      [1, expect.stringMatching(/^\//)],
      [2, expect.stringMatching(/^\//)],
    ]);
    expect(rejects[0]!.reason).toMatch(
      /^the destination's mapping cannot be applied: "(__proto__|constructor)" cannot be a segment of a JSON pointer/,
    );
    expect(await statuses()).toEqual(['rejected', 'rejected']);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(({} as { baseUrl?: unknown }).baseUrl).toBeUndefined();
  });
});
