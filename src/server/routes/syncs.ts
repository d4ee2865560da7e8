import type { FastifyInstance } from 'fastify';
import type { SyncJob } from '../../generated/sync-job.js';
import type { SyncStartRequest } from '../../generated/sync-start-request.js';
import type { SyncService } from '../../sync/sync-service.js';
import type { PageOptions } from '../../page-cursor.js';
import { NEXT_LINK, PAGE_QUERY, pageRequested, sendPage } from '../page-link.js';
import { answer, BODY, location, problems, ref } from '../api-schemas.js';
import { idParams } from '../id-params.js';
import type { NumberedEvent, SyncJobs } from '../sync-jobs.js';

const idParam = idParams('sync');

/** `Last-Event-ID`, as EventSource sends it on reconnecting: the stream replays only the events after that one. */
const lastEventId = {
  type: 'object',
  properties: {
    'last-event-id': {
      type: 'string',
      description:
        'Resume after this event: the `id:` of the last event received (a sequence number, from 1). The events after it are ' +
        'sent again, those kept (a long sync keeps its last 5,000, dropping page events first); absent, or not a number, ' +
        'the stream starts from the first event.',
    },
  },
} as const;

/**
 * The answer of GET /syncs/{id}/events. OpenAPI 3.1 has no schema for a stream's items, so the media
 * type's schema is what each message's `data:` holds (schemas/sync-event.schema.json) and the
 * description says the framing; the route writes the stream itself (it is never serialised).
 */
const eventStream = {
  description:
    'Server-Sent Events, one message per sync event: `id:` its sequence number (send it back as Last-Event-ID to resume ' +
    'after it), `event:` its kind (the `event` field of the data), `data:` the event as one line of JSON, described by the ' +
    'schema. Already-sent events are replayed first, so a late subscriber sees the whole sync. The stream ends after the ' +
    '`finished` or `failed` event (a cancelled sync fails with code `sync_cancelled`); a `: keepalive` comment line comes ' +
    'every 15 s while the sync is quiet.',
  headers: {
    'X-Accel-Buffering': {
      description: 'no: a reverse proxy (nginx) passes each event on as it comes instead of buffering the stream',
      type: 'string',
      enum: ['no'],
    },
  },
  content: { 'text/event-stream': { schema: ref('sync-event') } },
} as const;

export interface EventStreamOptions {
  /** A comment line this often, so a quiet sync's stream is neither cut as idle nor by a proxy. */
  keepaliveMs: number;
  /** How often a stream asks whether its caller is still authenticated: a revoked token's stream ends. */
  recheckMs: number;
}

/** Syncs in the background: start (202), state, live events (Server-Sent Events), cancel, and run a failed one again. */
export function syncRoutes(syncs: SyncService, jobs: SyncJobs, stream: EventStreamOptions = { keepaliveMs: 15_000, recheckMs: 2_000 }) {
  // A busy destination is refused at once (409), not accepted and then failed: one of this server's
  // syncs writing it, or any other holding its lease. The run's own lease still decides a race.
  const refuseIfBusy = async (destination: string) => {
    jobs.refuseIfBusy(destination);
    await syncs.refuseIfBusy(destination);
  };
  return async (app: FastifyInstance): Promise<void> => {
    const job = ref('sync-job');
    app.post<{ Body: SyncStartRequest }>('/syncs', {
      schema: {
        tags: ['syncs'],
        operationId: 'startSync',
        summary: 'Start a sync of a source into a destination; follow it with GET /syncs/{id}/events',
        body: ref('sync-start-request'),
        // 404: the source or destination it names; 409: a destination another sync is writing.
        response: { 202: answer('The sync, started', job, location('the sync')), ...problems(...BODY, 404, 409) },
      },
      handler: async (request, reply) => {
        const { source, destination, streams, fullRefresh, concurrency } = request.body;
        const checked = await syncs.check(source, destination, streams);
        await refuseIfBusy(destination);
        const started = jobs.start(
          {
            source,
            destination,
            ...(streams ? { streams } : {}),
            ...(fullRefresh !== undefined ? { fullRefresh } : {}),
            ...(concurrency !== undefined ? { concurrency } : {}),
          },
          checked.streams,
        );
        return reply.code(202).header('location', `/api/v1/syncs/${started.id}`).send(started);
      },
    });
    app.get<{ Querystring: { state?: SyncJob['status'] } & PageOptions }>('/syncs', {
      schema: {
        tags: ['syncs'],
        operationId: 'listSyncs',
        summary: "The workspace's syncs started through this server, newest first, a page at a time",
        querystring: {
          type: 'object',
          properties: {
            state: { type: 'string', enum: ['running', 'finished', 'failed', 'cancelled'], description: 'only syncs in this state' },
            ...PAGE_QUERY,
          },
          additionalProperties: false,
        },
        response: { 200: answer('A page of syncs, newest first', { type: 'array', items: job }, NEXT_LINK), ...problems(400) },
      },
      handler: async (request, reply) => {
        const { state } = request.query;
        return sendPage(request, reply, jobs.list({ ...pageRequested(request.query), ...(state ? { state } : {}) }));
      },
    });
    app.get<{ Params: { id: string } }>('/syncs/:id', {
      schema: {
        tags: ['syncs'],
        operationId: 'getSync',
        summary: 'A sync: state, per-stream progress, summary or error',
        params: idParam,
        response: { 200: answer('The sync', job), ...problems(400, 404) },
      },
      handler: async (request) => jobs.get(request.params.id),
    });
    app.post<{ Params: { id: string } }>('/syncs/:id/cancel', {
      schema: {
        tags: ['syncs'],
        operationId: 'cancelSync',
        summary: "Stop after the current page's checkpoint (the next sync finishes the run)",
        params: idParam,
        response: { 202: answer('The sync, asked to stop', job, location('the sync')), ...problems(...BODY, 404) },
      },
      handler: async (request, reply) => {
        // Cancelled first: a refusal (403, 404) carries no Location, which only its 202 declares.
        const cancelled = jobs.cancel(request.params.id);
        return reply.code(202).header('location', `/api/v1/syncs/${cancelled.id}`).send(cancelled);
      },
    });
    app.post<{ Params: { id: string } }>('/syncs/:id/retry', {
      schema: {
        tags: ['syncs'],
        summary:
          'Run a failed or cancelled sync again as a new sync (retryOf names this one): the same source, destination, streams and ' +
          'concurrency, resuming at the checkpoint, never a full refresh; 409 not_failed for a running or finished one',
        operationId: 'retrySync',
        params: idParam,
        response: { 202: answer('The new sync, started', job, location('the new sync')), ...problems(...BODY, 404, 409) },
      },
      handler: async (request, reply) => {
        const started = await jobs.retry(request.params.id, async (input) => {
          const { streams } = await syncs.check(input.source, input.destination, input.streams);
          await refuseIfBusy(input.destination);
          return streams;
        });
        return reply.code(202).header('location', `/api/v1/syncs/${started.id}`).send(started);
      },
    });
    app.get<{ Params: { id: string } }>('/syncs/:id/events', {
      schema: {
        tags: ['syncs'],
        operationId: 'getSyncEvents',
        summary: "The sync's events as Server-Sent Events: the same JSON objects `credport sync --json` prints, one `data:` line each",
        params: idParam,
        headers: lastEventId,
        response: { 200: eventStream, ...problems(400, 404) },
      },
      handler: async (request, reply) => {
        const after = Number(request.headers['last-event-id'] ?? 0) || 0;
        jobs.get(request.params.id); // a 404 before the stream starts
        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        raw.flushHeaders(); // the client knows the stream is open before the first event
        let closed = false;
        const close = () => {
          if (closed) return;
          closed = true;
          clearInterval(keepalive);
          clearInterval(recheck);
          subscription?.unsubscribe();
          raw.end();
        };
        const send = ({ seq, event }: NumberedEvent) => {
          if (closed) return;
          raw.write(`id: ${seq}\nevent: ${event.event}\ndata: ${JSON.stringify(event)}\n\n`);
          if (event.event === 'finished' || event.event === 'failed') setImmediate(close);
        };
        const keepalive = setInterval(() => raw.write(': keepalive\n\n'), stream.keepaliveMs);
        // The stream was authorised once, when it opened; a token revoked (or a session ended) since
        // must not keep reading it. A failed check (the store unreachable) ends it too: the client may reconnect.
        const stillAuthenticated = request.stillAuthenticated;
        const recheck = stillAuthenticated
          ? setInterval(() => {
              stillAuthenticated().then(
                (ok) => ok || close(),
                () => close(),
              );
            }, stream.recheckMs)
          : undefined;
        let subscription: { ended: boolean; unsubscribe: () => void } | undefined;
        subscription = jobs.subscribe(request.params.id, after, send);
        if (subscription.ended) setImmediate(close);
        request.raw.on('close', close);
      },
    });
  };
}
