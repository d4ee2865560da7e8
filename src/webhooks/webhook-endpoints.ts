import type { AccessScope } from '../access/access.js';
import type { AuditEntry, AuditLog } from '../audit/audit-log.js';
import { InputError, NotFoundError, StoreError } from '../errors.js';
import type { WebhookEndpoint } from '../generated/webhook-endpoint.js';
import type { WebhookEndpointCreateRequest } from '../generated/webhook-endpoint-create-request.js';
import type { WebhookEndpointCreated } from '../generated/webhook-endpoint-created.js';
import type { WebhookEndpointUpdateRequest } from '../generated/webhook-endpoint-update-request.js';
import type { WebhookEventType } from '../generated/webhook-event-type.js';
import type { WebhookTestResult } from '../generated/webhook-test-result.js';
import { type OutboundPolicy, type Reach, reachOf } from '../http/outbound-policy.js';
import { isId, malformedId } from '../ids.js';
import type { SealerSource } from '../keys/key-state.js';
import type { SealedSecret, Sealer } from '../keys/sealer.js';
import { oldestFirst } from '../listing-order.js';
import { type Page, type PageOptions, pageOf } from '../page-cursor.js';
import { checkRequest } from '../registry/request-schemas.js';
import type { Collection } from '../store/collection.js';
import { printable } from '../text/printable.js';
import type { DeliveryAttempt, DeliveryTarget, WebhookSender } from './webhook-sender.js';
import { newMessageId, newWebhookSecret } from './webhook-signature.js';
import { randomBytes } from 'node:crypto';

export type { WebhookEndpoint, WebhookEndpointCreated, WebhookEndpointCreateRequest, WebhookEndpointUpdateRequest, WebhookTestResult };

/** create's input with a plain array of events (the schema's minItems makes the generated type a tuple no string[] fits). */
export type WebhookEndpointInput = Omit<WebhookEndpointCreateRequest, 'events'> & { events: WebhookEventType[] };
export type WebhookEndpointChanges = Omit<WebhookEndpointUpdateRequest, 'events'> & { events?: WebhookEventType[] };

/** What the store keeps: the view, its workspace, who registered the URL, and the signing secrets sealed. */
export interface WebhookEndpointRecord extends WebhookEndpoint {
  workspace: string;
  /** The reach of whoever set the URL: a tenant's endpoint is sent to through the guarded agents. */
  reach: Reach;
  secret: SealedSecret;
  /** The secret before the last rotation: it signs alongside until secretRotatedAt + PREVIOUS_SECRET_MS. */
  previousSecret?: SealedSecret;
  rev?: number;
}

/**
 * Endpoints a workspace may have. Each event is one signed POST per subscribed endpoint, and the
 * delivery loop's lanes are shared by every workspace: without a bound, one tenant's thousands of
 * endpoints would make credport an amplifier aimed at any public host and hold other workspaces'
 * deliveries back. One endpoint takes every event type; a receiver fans out on its side.
 */
export const MAX_ENDPOINTS = 20;

/** How long the secret before a rotation keeps signing alongside the new one: receivers switch within a day. */
export const PREVIOUS_SECRET_MS = 24 * 60 * 60 * 1000;

/**
 * A workspace's webhook endpoints: where its events are POSTed, signed in the Standard Webhooks form.
 * Managed by the workspace's admins only; another workspace's endpoint is not found. The signing
 * secret is sealed with the store's master key, bound to the endpoint and its workspace, and shown
 * once (create, rotate-secret): never in a listing, an audit event, an error or a log.
 */
export class WebhookEndpoints {
  private sender: WebhookSender | undefined;
  /** Set by the composition root: the deliveries of a deleted endpoint are let go. */
  onDeleted?: (id: string) => Promise<void>;

  constructor(
    private readonly endpoints: Collection<WebhookEndpointRecord>,
    private readonly scope: AccessScope,
    private readonly keys: SealerSource,
    private readonly outbound: OutboundPolicy,
    private readonly audit?: AuditLog,
    private readonly options: { timeoutMs?: number; now?: () => Date } = {},
  ) {}

  async create(input: WebhookEndpointInput): Promise<WebhookEndpointCreated> {
    checkRequest('webhook-endpoint-create-request', input as WebhookEndpointCreateRequest);
    const access = this.scope.require('admin', 'registering a webhook endpoint');
    const reach = reachOf(access);
    const url = this.outbound.checkWebhookUrl(input.url, reach);
    const id = newEndpointId();
    const workspace = this.scope.home();
    // Damaged records count too: they are endpoints the workspace has, until its admins delete them.
    if ((await this.endpoints.entries({ field: 'workspace', equals: workspace })).length >= MAX_ENDPOINTS)
      throw new InputError(
        `a workspace has at most ${MAX_ENDPOINTS} webhook endpoints, and this one has that many: delete one, or subscribe one to more events`,
        { code: 'limit_reached' },
      );
    const secret = newWebhookSecret();
    const at = this.now().toISOString();
    const record: WebhookEndpointRecord = {
      id,
      url,
      events: [...new Set(input.events)],
      enabled: true,
      createdAt: at,
      updatedAt: at,
      workspace,
      reach,
      secret: (await this.keys.forWrite()).seal(secret, sealedFor(workspace, id)),
    };
    const description = input.description?.trim();
    if (description) record.description = description;
    if (!(await this.endpoints.insert(id, record)))
      throw new StoreError('write_conflict', `webhook endpoint ${id} exists already: try again`);
    await this.note({ action: 'webhook.created', outcome: 'ok', webhookId: id, workspace, detail: describe(record) });
    return { ...view(record), secret };
  }

  async list(options: PageOptions = {}): Promise<Page<WebhookEndpoint>> {
    this.scope.require('admin', 'listing webhook endpoints');
    const seen = await this.scope.listing(
      () => this.endpoints.all(),
      async () => (await this.endpoints.entries()) as [string, WebhookEndpointRecord | Error][],
    );
    const page = pageOf(oldestFirst(seen), options);
    const shown: Page<WebhookEndpoint> = page.map(view);
    if (page.next !== undefined) shown.next = page.next;
    return shown;
  }

  async get(id: string): Promise<WebhookEndpoint> {
    return view(await this.load(id, 'reading a webhook endpoint'));
  }

  async update(id: string, changes: WebhookEndpointChanges): Promise<WebhookEndpoint> {
    checkRequest('webhook-endpoint-update-request', changes as WebhookEndpointUpdateRequest);
    const access = this.scope.current();
    await this.load(id, 'changing a webhook endpoint');
    // Checked before the write: a refused URL leaves the endpoint as it was.
    const url = changes.url === undefined ? undefined : this.outbound.checkWebhookUrl(changes.url, reachOf(access));
    const { record } = await this.endpoints.change(
      id,
      (now) => {
        if (!now) throw new NotFoundError(`webhook endpoint ${id} was deleted while it was being changed`);
        const next: WebhookEndpointRecord = { ...this.withoutExpired(now), updatedAt: this.now().toISOString() };
        if (url !== undefined) {
          next.url = url;
          // Whoever names the URL answers for it: a tenant's URL is sent to through the guarded agents.
          next.reach = reachOf(access);
        }
        if (changes.events !== undefined) next.events = [...new Set(changes.events)];
        if (changes.enabled !== undefined) {
          next.enabled = changes.enabled;
          if (changes.enabled) delete next.disabledReason;
        }
        if (changes.description !== undefined) {
          const description = changes.description.trim();
          if (description) next.description = description;
          else delete next.description;
        }
        return next;
      },
      {
        attempts: 20,
        conflict: () => new StoreError('write_conflict', `webhook endpoint ${id} kept changing; it is not changed: try again`),
      },
    );
    await this.note({
      action: 'webhook.updated',
      outcome: 'ok',
      webhookId: id,
      workspace: record.workspace,
      detail: `changed ${Object.keys(changes).sort().join(', ')}; ${describe(record)}`,
    });
    return view(record);
  }

  async delete(id: string): Promise<{ id: string; deleted: true }> {
    const record = await this.load(id, 'deleting a webhook endpoint');
    await this.endpoints.delete(id);
    // What waited for it has nowhere to go (a failure here leaves records no lane reads: harmless).
    await this.onDeleted?.(id).catch(() => undefined);
    await this.note({ action: 'webhook.deleted', outcome: 'ok', webhookId: id, workspace: record.workspace, detail: describe(record) });
    return { id, deleted: true };
  }

  /** A new secret, shown once; the one before keeps signing alongside for PREVIOUS_SECRET_MS (a third one is dropped). */
  async rotateSecret(id: string): Promise<WebhookEndpointCreated> {
    const before = await this.load(id, "rotating a webhook endpoint's secret");
    const secret = newWebhookSecret();
    const sealer = await this.keys.forWrite();
    const { record } = await this.endpoints.change(
      id,
      (now) => {
        if (!now) throw new NotFoundError(`webhook endpoint ${id} was deleted while its secret was being rotated`);
        const at = this.now().toISOString();
        const sealedFor_ = sealedFor(now.workspace, id);
        return {
          ...now,
          secret: sealer.seal(secret, sealedFor_),
          previousSecret: sealer.seal(this.open(now.secret, sealedFor_, id), `${sealedFor_}:previous`),
          secretRotatedAt: at,
          updatedAt: at,
        };
      },
      {
        attempts: 20,
        conflict: () => new StoreError('write_conflict', `webhook endpoint ${id} kept changing; its secret is not rotated: try again`),
      },
    );
    await this.note({ action: 'webhook.secret_rotated', outcome: 'ok', webhookId: id, workspace: before.workspace });
    return { ...view(record), secret };
  }

  /**
   * Sends the test message `{type: "webhook.test", timestamp, data: {endpointId}}`, signed, now, and
   * answers the attempt: a receiver that fails is an answer (delivered false), not an error.
   */
  async test(id: string): Promise<WebhookTestResult> {
    const record = await this.load(id, 'testing a webhook endpoint');
    const body = JSON.stringify({ type: 'webhook.test', timestamp: this.now().toISOString(), data: { endpointId: id } });
    return this.deliver(record, { id: newMessageId(), body });
  }

  /** One attempt of one message to an endpoint: what the outbox's workers will call with each event. */
  async deliver(record: WebhookEndpointRecord, message: { id: string; body: string }): Promise<DeliveryAttempt> {
    return (await this.senderTo(record))(message);
  }

  /**
   * For the delivery loop: a function that sends messages to the endpoint as it is now, its secrets
   * opened once (a lane sends thousands in a burst; each would otherwise open them again).
   */
  async senderTo(record: WebhookEndpointRecord): Promise<(message: { id: string; body: string }) => Promise<DeliveryAttempt>> {
    // Loaded when first used: got is for commands that send (issue 8: --help and listings do not pay for it).
    this.sender ??= new (await import('./webhook-sender.js')).WebhookSender(this.outbound, this.options);
    const sender = this.sender;
    const target = await this.targetOf(record);
    return (message) => sender.deliver(target, message);
  }

  /**
   * For the delivery loop, which acts for every workspace (never a caller's request): every
   * endpoint record, damaged ones left out (listing names them to their admins).
   */
  async allForDelivery(): Promise<WebhookEndpointRecord[]> {
    return (await this.endpoints.entries()).flatMap(([, r]) => (r instanceof Error ? [] : [r]));
  }

  /** For the delivery loop: one endpoint record, whoever's it is (undefined: deleted). */
  async forDelivery(id: string): Promise<WebhookEndpointRecord | undefined> {
    return this.endpoints.get(id);
  }

  /**
   * credport stops sending to an endpoint whose deliveries failed for the whole retry schedule:
   * disabled, with the reason its admins see (GET /webhooks/{id}); PATCH enabled true resumes it,
   * its pending deliveries then sent in order.
   */
  async disable(id: string, reason: string): Promise<void> {
    const { record, written } = await this.endpoints
      .change(
        id,
        (now) => {
          if (!now) throw new NotFoundError(`webhook endpoint ${id} was deleted`);
          return now.enabled
            ? { ...now, enabled: false, disabledReason: reason.slice(0, 500), updatedAt: this.now().toISOString() }
            : undefined;
        },
        { attempts: 20, conflict: () => new StoreError('write_conflict', `webhook endpoint ${id} kept changing while being disabled`) },
      )
      .catch((error: unknown) => {
        // Deleted meanwhile: nothing left to disable.
        if (error instanceof NotFoundError) return { record: undefined, written: false };
        throw error;
      });
    if (written && record)
      await this.note({ action: 'webhook.disabled', outcome: 'ok', webhookId: id, workspace: record.workspace, detail: reason });
  }

  /** Where a delivery goes and the secrets that sign it now: the current one, and the one before while its day lasts. */
  private async targetOf(record: WebhookEndpointRecord): Promise<DeliveryTarget> {
    const sealed = sealedFor(record.workspace, record.id);
    if (![record.secret, record.previousSecret].every((s) => s === undefined || this.keys.current.knows(s.kid))) await this.keys.refresh();
    const secrets = [this.open(record.secret, sealed, record.id)];
    const live = this.withoutExpired(record);
    if (live.previousSecret) secrets.push(this.open(live.previousSecret, `${sealed}:previous`, record.id));
    return { url: record.url, reach: record.reach, secrets };
  }

  /**
   * The master key rotation's step for endpoints (key-rotation.ts): every secret not under `kid`
   * re-sealed with `sealer`, written over the revision read. One that cannot be opened stops the
   * rotation before the old key is retired, naming the endpoint (never its secret).
   */
  async resealUnder(sealer: Sealer, kid: string): Promise<number> {
    let resealed = 0;
    for (const [id, found] of await this.endpoints.entries()) {
      if (found instanceof Error) throw found;
      const stale = (r: WebhookEndpointRecord) => r.secret.kid !== kid || (r.previousSecret !== undefined && r.previousSecret.kid !== kid);
      if (!stale(found)) continue;
      const { written } = await this.endpoints.change(
        id,
        (now) => {
          if (!now || !stale(now)) return undefined;
          const sealed = sealedFor(now.workspace, now.id);
          const next = { ...now, secret: sealer.seal(sealer.open(now.secret, sealed, `webhook endpoint ${id}`), sealed) };
          if (now.previousSecret)
            next.previousSecret = sealer.seal(
              sealer.open(now.previousSecret, `${sealed}:previous`, `webhook endpoint ${id}`),
              `${sealed}:previous`,
            );
          return next;
        },
        {
          attempts: 20,
          conflict: () => new StoreError('write_conflict', `webhook endpoint ${id} kept changing during the key rotation: run it again`),
        },
      );
      if (written) resealed++;
    }
    return resealed;
  }

  /** The record without a previous secret whose day is over: it signs no more, and the next write drops it. */
  private withoutExpired(record: WebhookEndpointRecord): WebhookEndpointRecord {
    if (!record.previousSecret || !record.secretRotatedAt) return record;
    if (this.now().getTime() < Date.parse(record.secretRotatedAt) + PREVIOUS_SECRET_MS) return record;
    const { previousSecret: _dropped, ...rest } = record;
    return rest;
  }

  private open(sealed: SealedSecret, associatedData: string, id: string): string {
    return this.keys.current.open(sealed, associatedData, `webhook endpoint ${id}`);
  }

  private async load(id: string, doing: string): Promise<WebhookEndpointRecord> {
    this.scope.require('admin', doing);
    if (!isId('webhook endpoint', id))
      throw new InputError(`"${printable(String(id))}" ${malformedId('webhook endpoint')}`, { field: 'id' });
    const record = await this.endpoints.get(id);
    if (!record || !this.scope.sees(record)) throw new NotFoundError(`no webhook endpoint ${printable(id)}`);
    return record;
  }

  private async note(entry: AuditEntry): Promise<void> {
    await this.audit?.note(entry);
  }

  private now(): Date {
    return this.options.now?.() ?? new Date(Date.now());
  }
}

/** The associated data a secret is sealed with: copied onto another endpoint or workspace, it fails to open. */
const sealedFor = (workspace: string, id: string) => `webhook-endpoint:${workspace}:${id}`;

/** The view: never a secret, the workspace (the caller's own), the reach or the revision. */
function view(record: WebhookEndpointRecord): WebhookEndpoint {
  const { secret: _s, previousSecret: _p, workspace: _w, reach: _r, rev: _v, ...shown } = record;
  return { ...shown, events: [...shown.events] };
}

/** For the audit trail: the origin (a URL's path or query may hold the receiver's own token) and the events. */
function describe(record: WebhookEndpointRecord): string {
  return `endpoint ${new URL(record.url).origin}, events ${record.events.join(', ')}${record.enabled ? '' : ', disabled'}`;
}

function newEndpointId(): string {
  // 80 random bits in base32, as credential and session ids are made.
  let bits = 0n;
  for (const byte of randomBytes(10)) bits = (bits << 8n) | BigInt(byte);
  return `whe_${bits.toString(32).padStart(16, '0')}`;
}
