import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { AccessScope, type ConnectGrant, DEFAULT_WORKSPACE, ForbiddenError } from '../access/access.js';
import type { AuditEntry, AuditLog } from '../audit/audit-log.js';
import type { SecretValues } from '../auth/create-auth.js';
import { isId, malformedId } from '../ids.js';
import { InputError, NotFoundError, OutboundRefusedError, ProviderRejectedError, ProviderUnavailableError, StoreError } from '../errors.js';
import type { CredentialCreateRequest } from '../generated/credential-create-request.js';
import type { CredentialRotateRequest } from '../generated/credential-rotate-request.js';
import type { CredentialTile } from '../generated/credential-tile.js';
import type { CredentialUpdateRequest } from '../generated/credential-update-request.js';
import { checkBaseUrl } from '../http/origin-policy.js';
import { scrubSecrets } from '../text/scrub-secrets.js';
import { terminalSafe } from '../text/terminal-safe.js';
import { DEFAULT_HTTP, type HttpSettings } from '../http/http-settings.js';
import type { ClientExtras, ProviderClient } from '../http/provider-client.js';
import { OutboundPolicy, type Reach, reachOf } from '../http/outbound-policy.js';
import type { RateGate } from '../http/rate-gate.js';
import type { Connector } from '../registry/connector.js';
import type { ConnectorRegistry } from '../registry/connector-registry.js';
import { checkRequest } from '../registry/request-schemas.js';
import type { CredentialRecords } from '../store/credential-records.js';
import { oldestFirst } from '../listing-order.js';
import { type Page, type PageOptions, pageOf } from '../page-cursor.js';
import type { SealerSource } from '../keys/key-state.js';
import { printable } from '../text/printable.js';
import { associatedData, type CredentialRecord, resealed, secretHint, toTile } from './credential-record.js';
import { refuseSecretShapeInPublicFields, refuseSecretsInPublicFields } from './public-fields-guard.js';
import { verifyCredential } from './verify-credential.js';
import { publish } from '../telemetry/channels.js';
import { type Span, traced } from '../telemetry/tracing.js';
import type { WebhookEventType } from '../generated/webhook-event-type.js';
import type { EventSubject, Mark, Outbox } from '../webhooks/outbox.js';
import { credentialEventData, credentialLanded, type InvalidCause, subjectOf } from '../webhooks/webhook-events.js';

/**
 * The service's inputs are the API's request bodies (src/generated, from schemas/), checked against
 * their schemas first (request-schemas.ts), whoever calls: the CLI, the library or the API.
 * create: the form's values (name, description, the connector's secret fields), another origin
 * of the provider (`baseUrl`), and `verify: false` to save without asking the provider.
 */
export type CreateCredentialInput = CredentialCreateRequest;
/** A new name or description; an empty description removes it. */
export type UpdateCredentialInput = CredentialUpdateRequest;
/** The connector's secret fields only. */
export type RotateCredentialInput = CredentialRotateRequest;

export interface CredentialServiceDeps {
  registry: ConnectorRegistry;
  records: CredentialRecords;
  /** The sealer of the store's key as of now: a key rotation can change it while the process runs. */
  keys: SealerSource;
  http?: HttpSettings;
  now?: () => Date;
  /** Whose credentials a call may touch, and what it may do (workspaces and roles); default: the default workspace, admin. */
  access?: AccessScope;
  /** Where every credential event is recorded (created, verified, rotated, renamed, deleted…). */
  audit?: AuditLog;
  /** Names of what uses a credential (sources, destinations); a delete is refused while any do. */
  usersOf?: (id: string) => Promise<string[]>;
  /** Where credentials may send requests (the operator's allowed origins); default: tenants keep to the connectors' own origins. */
  outbound?: OutboundPolicy;
  /** Told when a connect session's end user created or repaired a credential (the session's outcome). */
  connectOutcome?: (sessionId: string, action: 'created' | 'repaired', credentialId: string) => Promise<void>;
  /**
   * Throws unless a connect session is still live (not revoked, not expired). Asked just before a
   * bearer's add or rotate is saved: the bearer was checked when its request came in, but the
   * provider's check can take seconds, and a revoke meanwhile must stop the write.
   */
  connectStillOpen?: (sessionId: string) => Promise<void>;
  /**
   * Where the webhook events of each change are written (created, verified, invalidated, recovered,
   * rotated, deleted), with the change; none: the changes make no events.
   */
  outbox?: Outbox;
}

/** The types a change makes, decided on the record as it is in the store (`before`) and the one about to be written. */
type EventsOf = (before: CredentialRecord, next: CredentialRecord) => WebhookEventType[];

// Lost races before a change is refused: each retry re-reads, so only a stream of writers to one credential exhausts them.
const CHANGE_ATTEMPTS = 20;

// got is loaded by the first method that talks to a provider: listing tiles starts without it (~60 ms).
let clientModules: ReturnType<typeof loadClientModules> | undefined;
async function loadClientModules() {
  // One import after the other: jest's ESM loader fails on two concurrent imports that share modules.
  const { ProviderClient } = await import('../http/provider-client.js');
  const { createAuth } = await import('../auth/create-auth.js');
  return { ProviderClient, createAuth };
}

/**
 * The credential lifecycle a host calls: every method validates first, asks the provider second,
 * and writes last, so a failure at any step leaves the store as it was.
 */
export class CredentialService {
  private readonly http: HttpSettings;
  private readonly now: () => Date;
  private readonly scope: AccessScope;
  private readonly outbound: OutboundPolicy;

  constructor(private readonly deps: CredentialServiceDeps) {
    this.outbound = deps.outbound ?? new OutboundPolicy();
    this.http = deps.http ?? DEFAULT_HTTP;
    this.now = deps.now ?? (() => new Date());
    this.scope = deps.access ?? new AccessScope();
  }

  async create(input: CreateCredentialInput): Promise<CredentialTile> {
    checkRequest('credential-create-request', input);
    this.scope.require('editor', 'adding a credential');
    const grant = this.scope.current().connect;
    if (grant) refuseBeyondGrant(grant, input.connector);
    const connector = this.deps.registry.get(input.connector);
    const values = trimPublicFields(input.values, connector);
    this.deps.registry.validateValues(connector, values);
    const baseUrl = input.baseUrl === undefined ? regionalBaseUrl(connector, values) : checkBaseUrl(input.baseUrl);
    // Where this caller may point it, before the provider (or anything else) hears of it.
    const reach = this.callerReach();
    if (baseUrl !== undefined)
      this.outbound.check(
        connector,
        baseUrl,
        reach,
        input.baseUrl === undefined ? (connector.manifest.http.regions?.domainField ?? 'baseUrl') : 'baseUrl',
      );
    // Before the provider hears of it: a secret in a public field would be stored and shown in the clear.
    const shown = input.baseUrl === undefined ? values : { ...values, baseUrl };
    refuseSecretsInPublicFields(connector, shown, values);
    refuseSecretShapeInPublicFields(connector, shown);
    const secrets = pick(values, connector.authFields);

    const at = this.now().toISOString();
    const checked =
      input.verify === false
        ? undefined
        : await this.verifyNoted(connector, baseUrl, secrets, undefined, undefined, reach).catch(onTheSecret(connector));
    if (grant) await this.deps.connectStillOpen?.(grant.sessionId);
    const id = newCredentialId();
    // The key as last seen: the check after the write (resealIfKeyMoved) reads the store's key state
    // once, and re-seals if it moved; one read per add rather than one before and one after.
    const sealer = this.deps.keys.current;
    const workspace = this.scope.home();
    const sealed = sealer.seal(JSON.stringify(secrets), associatedData({ id, connector: connector.id, baseUrl, workspace }));
    const record: CredentialRecord = {
      v: 1,
      id,
      workspace,
      connector: connector.id,
      name: values.name as string,
      status: checked ? 'verified' : 'unverified',
      createdAt: at,
      updatedAt: at,
      sealed,
    };
    if (typeof values.description === 'string' && values.description !== '') record.description = values.description;
    if (grant) record.endUserId = grant.endUserId;
    if (baseUrl !== undefined) Object.assign(record, { baseUrl, baseUrlBy: reach });
    const hint = secretHint(secrets[connector.manifest.auth.secret] ?? '');
    if (hint !== undefined) record.secretHint = hint;
    if (checked) Object.assign(record, { identity: checked, verifiedAt: at });
    await this.written(record);
    await this.resealIfKeyMoved(id, sealer.kid);
    await this.note({
      action: 'credential.created',
      outcome: 'ok',
      credentialId: id,
      ...inWorkspace(record),
      connector: connector.id,
      detail: checked ? 'verified with the provider' : 'saved without verification',
    });
    if (grant) await this.deps.connectOutcome?.(grant.sessionId, 'created', id);
    return toTile(record);
  }

  /** The tiles, oldest first; a page of them with `limit` and `cursor` (page-cursor.ts), else all. */
  async list(filter: { connector?: string } & PageOptions = {}): Promise<Page<CredentialTile>> {
    const grant = this.scope.current().connect;
    if (filter.connector !== undefined) {
      // A session's bearer is told of its connectors only (as the catalog tells it): one outside them reads as unknown.
      if (grant && !grant.connectors.includes(filter.connector))
        throw new InputError(`unknown connector "${printable(filter.connector)}" (known: ${grant.connectors.join(', ')})`, {
          field: 'connector',
          code: 'unknown_connector',
        });
      this.deps.registry.get(filter.connector);
    }
    this.scope.require('viewer', 'listing credentials');
    const records = await this.scope.listing<CredentialRecord>(
      () => (filter.connector === undefined ? this.deps.records.all() : this.deps.records.where('connector', filter.connector)),
      async () =>
        (await this.deps.records.entries()).filter(
          ([, r]) => r instanceof Error || filter.connector === undefined || r.connector === filter.connector,
        ),
    );
    const shown = grant ? records.filter((r) => grantLists(grant, r)) : records;
    return pageOf(oldestFirst(shown).map(toTile), filter);
  }

  async show(id: string): Promise<CredentialTile> {
    return toTile(await this.load(id));
  }

  /** One tile, if the caller's listing shows it (a connect session's bearer: what list() gives it); else not found. */
  async listed(id: string): Promise<CredentialTile> {
    this.scope.require('viewer', 'reading a credential');
    checkId(id);
    const record = await this.deps.records.get(id);
    const grant = this.scope.current().connect;
    if (!record || !this.scope.sees(record) || (grant && !grantLists(grant, record)))
      throw new NotFoundError(`no credential ${printable(id)}`);
    return toTile(record);
  }

  /**
   * Asks the provider again. A refusal marks the tile `invalid`, with the provider's words and when,
   * and is rethrown; an outage changes nothing. `gate`: a rate gate the request waits on (a
   * re-verification pass paces all its requests to one provider through one).
   */
  async test(id: string, options: { gate?: RateGate; cause?: Extract<InvalidCause, 'test' | 'reverify'> } = {}): Promise<CredentialTile> {
    this.scope.require('editor', 'testing a credential');
    const record = await this.load(id);
    const connector = this.deps.registry.get(record.connector);
    const secrets = await this.openSecretsFresh(record);
    try {
      const identity = await this.verifyNoted(connector, record.baseUrl, secrets, record, options.gate);
      const at = this.now().toISOString();
      let landed = false;
      const tile = await this.changeIfSameSecret(
        record,
        secrets,
        (now) => {
          landed = true;
          const next: CredentialRecord = { ...now, status: 'verified', identity, verifiedAt: at, updatedAt: at };
          delete next.invalidAt;
          delete next.invalidReason;
          delete next.invalidCause;
          return next;
        },
        // Verified, then recovered when the record was invalid as the store had it at this write.
        (before) => ['credential.verified', ...(before.status === 'invalid' ? (['credential.recovered'] as const) : [])],
      );
      // Not when the secret was rotated meanwhile: that answer was about a secret no longer saved.
      if (landed)
        await this.note({
          action: 'credential.verified',
          outcome: 'ok',
          credentialId: record.id,
          ...inWorkspace(record),
          connector: record.connector,
        });
      return tile;
    } catch (error) {
      if (error instanceof ProviderRejectedError)
        await this.changeIfSameSecret(
          record,
          secrets,
          (now) => this.invalid(now, scrubSecrets(error.message, secrets), options.cause ?? 'test'),
          newlyInvalid,
        );
      throw error;
    }
  }

  /** The record as refused by its provider just now: status, when, and the provider's words. */
  private invalid(record: CredentialRecord, reason: string, cause: InvalidCause): CredentialRecord {
    const at = this.now().toISOString();
    return { ...record, status: 'invalid', updatedAt: at, invalidAt: at, invalidReason: terminalSafe(reason, 500), invalidCause: cause };
  }

  /**
   * The provider answered about the secret we read; if the credential was rotated or deleted
   * meanwhile, that answer is stale and must not bring the old record back.
   */
  private changeIfSameSecret(
    read: CredentialRecord,
    secrets: SecretValues,
    changed: (now: CredentialRecord) => CredentialRecord,
    events: EventsOf,
  ): Promise<CredentialTile> {
    // Re-sealed under a new master key is still the same secret: compared by what it opens to.
    const same = (now: CredentialRecord) => now.sealed.ct === read.sealed.ct || isDeepStrictEqual(this.openSecretsOrNothing(now), secrets);
    return this.change(read.id, (now) => (same(now) ? changed(now) : undefined), 'tested', events);
  }

  /** The new secret is validated and verified before it replaces the old one; on any failure the old one stays. */
  async rotate(id: string, input: RotateCredentialInput): Promise<CredentialTile> {
    checkRequest('credential-rotate-request', input);
    this.scope.require('editor', 'rotating a credential');
    const record = await this.load(id);
    const connector = this.deps.registry.get(record.connector);
    refuseOtherThanSecrets(input.secrets, connector.authFields);
    const given = ownCopy(input.secrets);
    const candidate = Object.assign(ownCopy({ name: record.name }), given);
    this.deps.registry.validateValues(connector, candidate);
    // The new secret must not already sit in the saved public fields, nor in a public one given with it (Frontegg's Client ID).
    refuseSecretsInPublicFields(
      connector,
      { ...given, name: record.name, ...(record.description ? { description: record.description } : {}) },
      given,
    );
    refuseSecretShapeInPublicFields(connector, given);
    const secrets = pick(candidate, connector.authFields);
    const identity =
      input.verify === false ? undefined : await this.verifyNoted(connector, record.baseUrl, secrets, record).catch(onTheSecret(connector));
    const grant = this.scope.current().connect;
    if (grant) await this.deps.connectStillOpen?.(grant.sessionId);
    const at = this.now().toISOString();
    const sealer = this.deps.keys.current;
    // Verified once; if another change lands meanwhile, the new secret is applied to what it saved.
    return this.change(
      id,
      (now) => {
        refuseSecretsInPublicFields(connector, { name: now.name, ...(now.description ? { description: now.description } : {}) }, given);
        const next: CredentialRecord = {
          ...now,
          status: identity ? 'verified' : 'unverified',
          updatedAt: at,
          sealed: sealer.seal(JSON.stringify(secrets), associatedData(now)),
        };
        delete next.secretHint;
        // A refusal was about the old secret.
        delete next.invalidAt;
        delete next.invalidReason;
        delete next.invalidCause;
        // An unverified new secret says nothing about whose it is: the old identity (a USER key type, say) must not vouch for it.
        if (!identity) {
          delete next.identity;
          delete next.verifiedAt;
        }
        const hint = secretHint(secrets[connector.manifest.auth.secret] ?? '');
        if (hint !== undefined) next.secretHint = hint;
        if (identity) Object.assign(next, { identity, verifiedAt: at });
        return next;
      },
      'rotated',
      // Rotated; and recovered when it was invalid (as the store had it) and the new secret was verified.
      (before) => ['credential.rotated', ...(before.status === 'invalid' && identity ? (['credential.recovered'] as const) : [])],
    ).then(async (tile) => {
      await this.resealIfKeyMoved(id, sealer.kid);
      await this.note({
        action: 'credential.rotated',
        outcome: 'ok',
        credentialId: id,
        ...inWorkspace(tile),
        connector: connector.id,
        detail: identity ? 'new secret verified with the provider' : 'new secret saved without verification',
      });
      if (grant) await this.deps.connectOutcome?.(grant.sessionId, 'repaired', id);
      return tile;
    });
  }

  async update(id: string, input: UpdateCredentialInput): Promise<CredentialTile> {
    checkRequest('credential-update-request', input);
    this.scope.require('editor', 'renaming a credential');
    // The schema asks for a member; a JavaScript caller's `{ name: undefined }` has one and says nothing.
    if (input.name === undefined && input.description === undefined) {
      throw new InputError('nothing to update: give a name or a description');
    }
    const tile = await this.change(id, (record) => {
      const name = typeof input.name === 'string' ? input.name.trim() : (input.name ?? record.name);
      const description = typeof input.description === 'string' ? input.description.trim() : (input.description ?? record.description);
      const changed = { name, ...(description ? { description } : {}) };
      this.deps.registry.validateCommonFields(changed);
      // The saved secret is opened only to compare: a description must not take it in either.
      const connector = this.deps.registry.get(record.connector);
      refuseSecretsInPublicFields(connector, changed, this.openSecrets(record));
      refuseSecretShapeInPublicFields(connector, changed);
      const next: CredentialRecord = { ...record, name: name as string, updatedAt: this.now().toISOString() };
      if (description) next.description = description as string;
      else delete next.description;
      return next;
    });
    const changed = [input.name !== undefined ? 'name' : undefined, input.description !== undefined ? 'description' : undefined]
      .filter(Boolean)
      .join(' and ');
    await this.note({
      action: 'credential.renamed',
      outcome: 'ok',
      credentialId: id,
      ...inWorkspace(tile),
      connector: tile.connector,
      detail: `${changed} changed`,
    });
    return tile;
  }

  async delete(id: string, options: { force?: boolean } = {}): Promise<{ id: string; deleted: true }> {
    this.scope.require('admin', 'deleting a credential');
    checkId(id);
    // Another workspace's credential is not there for this caller, damaged or not.
    // A damaged record (undefined here) can still be deleted, by the workspace that sees damage.
    const record = await this.deps.records.get(id).then(
      (r) => (this.scope.sees(r) ? r : null),
      (error: unknown) =>
        error instanceof StoreError && error.code === 'corrupt_record'
          ? this.scope.seesDamaged()
            ? undefined
            : null
          : Promise.reject(error),
    );
    if (record === null) throw new NotFoundError(`no credential ${printable(id)}`);
    const users = options.force || !this.deps.usersOf ? [] : await this.deps.usersOf(id);
    if (users.length > 0) {
      throw new InputError(`credential ${id} is used by ${users.join(', ')}: delete those first, or force it`, {
        field: 'id',
        code: 'in_use',
      });
    }
    if (!(await this.removed(id, record))) throw new NotFoundError(`no credential ${printable(id)}`);
    await this.note({
      action: 'credential.deleted',
      outcome: 'ok',
      credentialId: id,
      ...inWorkspace(record),
      ...(record ? { connector: record.connector } : {}),
      ...(options.force && this.deps.usersOf ? { detail: 'forced' } : {}),
    });
    return { id, deleted: true };
  }

  /** For the runtime only: a client that sends this credential's secret where it belongs. */
  async client(id: string, options: ClientExtras & { http?: HttpSettings } = {}): Promise<ProviderClient> {
    this.scope.require('editor', 'using a credential');
    const record = await this.load(id);
    const connector = this.deps.registry.get(record.connector);
    const { http, ...extras } = options;
    return this.clientFor(connector, record.baseUrl, await this.openSecretsFresh(record), http, extras, record);
  }

  /** The provider refused the credential during a sync: its tile says so until it is tested or rotated. */
  async markInvalid(id: string, reason?: string): Promise<void> {
    // The provider's words, less any stretch of the secret it may have echoed back.
    const tile = await this.change(
      id,
      (record) => this.invalid(record, scrubSecrets(reason ?? 'refused during a sync', this.openSecretsOrNothing(record) ?? {}), 'sync'),
      'changed',
      newlyInvalid,
    ).catch((error: unknown) => {
      if (!(error instanceof NotFoundError)) throw error;
    });
    if (tile)
      await this.note({
        action: 'credential.verification_failed',
        outcome: 'refused',
        credentialId: id,
        ...inWorkspace(tile),
        connector: tile.connector,
        detail: reason ? `refused during a sync: ${tile.invalidReason}` : 'refused during a sync',
      });
  }

  /**
   * A client for the credential's secret, on its origin, under the outbound policy of whoever it
   * acts for (`saved`: the record it belongs to; a new one acts for the caller, as `reach` says).
   */
  private async clientFor(
    connector: Connector,
    baseUrl: string | undefined,
    secrets: SecretValues,
    http = this.http,
    extras: ClientExtras = {},
    saved?: CredentialRecord,
    reach = this.reachOf(saved),
  ): Promise<ProviderClient> {
    clientModules ??= loadClientModules();
    const { ProviderClient, createAuth } = await clientModules;
    const origin = baseUrl ?? connector.manifest.http.baseUrl;
    if (saved) await this.refuseOutsidePolicy(connector, saved, origin, reach);
    const route = reach === 'tenant' ? (url: URL) => this.outbound.route(connector.id, url, reach) : undefined;
    return new ProviderClient(
      connector,
      origin,
      createAuth(connector.manifest, secrets, origin, http.timeoutMs, route),
      http,
      route ? { ...extras, route } : extras,
    );
  }

  /** A saved credential the policy now refuses (saved earlier, or the operator's allowance withdrawn) fails its use, and its ' +
    'tile says why. */
  private async refuseOutsidePolicy(connector: Connector, record: CredentialRecord, origin: string, reach: Reach): Promise<void> {
    try {
      this.outbound.check(connector, origin, reach);
    } catch (error) {
      if (!(error instanceof OutboundRefusedError)) throw error;
      await this.change(
        record.id,
        (now) => (now.status === 'invalid' && now.invalidReason === error.message ? undefined : this.invalid(now, error.message, 'policy')),
        'changed',
        newlyInvalid,
      ).catch(() => undefined);
      throw error;
    }
  }

  /** The caller's reach: a confined caller (a workspace token, an end-user session) is a tenant. */
  private callerReach(): Reach {
    return reachOf(this.scope.current());
  }

  /**
   * The reach a saved credential's requests act for: a tenant's whenever the caller is one, or a
   * tenant set its base URL (records from before the policy: any in a workspace of its own).
   */
  private reachOf(record: CredentialRecord | undefined): Reach {
    if (this.callerReach() === 'tenant' || record?.baseUrl === undefined) return this.callerReach();
    const by = record.baseUrlBy ?? ((record.workspace ?? DEFAULT_WORKSPACE) === DEFAULT_WORKSPACE ? 'operator' : 'tenant');
    return by;
  }

  private async verify(
    connector: Connector,
    baseUrl: string | undefined,
    secrets: SecretValues,
    gate?: RateGate,
    saved?: CredentialRecord,
    reach?: Reach,
  ) {
    return verifyCredential(
      connector,
      await this.clientFor(connector, baseUrl, secrets, undefined, gate ? { gate } : {}, saved, reach ?? this.reachOf(saved)),
      secrets,
    );
  }

  /** verify, with a refusal or an outage in the audit trail (the error's message carries no secret: the HTTP layer redacts it). */
  private async verifyNoted(
    connector: Connector,
    baseUrl: string | undefined,
    secrets: SecretValues,
    saved: CredentialRecord | undefined,
    gate?: RateGate,
    reach?: Reach,
  ) {
    // One span a verification (create, test, reverify), its provider request below it.
    return traced('credport.verification', { attributes: { 'credport.connector': connector.id } }, (span) =>
      this.verifyCounted(connector, baseUrl, secrets, saved, span, gate, reach),
    );
  }

  private async verifyCounted(
    connector: Connector,
    baseUrl: string | undefined,
    secrets: SecretValues,
    saved: CredentialRecord | undefined,
    span: Span,
    gate?: RateGate,
    reach?: Reach,
  ) {
    try {
      const identity = await this.verify(connector, baseUrl, secrets, gate, saved, reach);
      publish('credport:verification', () => ({ connector: connector.id, outcome: 'ok' }));
      if (span.isRecording()) span.setAttribute('credport.outcome', 'ok');
      return identity;
    } catch (error) {
      const outcome =
        error instanceof ProviderRejectedError ? 'refused' : error instanceof ProviderUnavailableError ? 'unavailable' : undefined;
      // Counted whether saved or not: a refused create is what an operator most wants to see.
      publish('credport:verification', () => ({ connector: connector.id, outcome: outcome ?? 'error' }));
      if (span.isRecording()) span.setAttribute('credport.outcome', outcome ?? 'error');
      // A failed create leaves the store as it was: only a saved credential's failures are recorded.
      if (outcome && saved)
        await this.note({
          action: 'credential.verification_failed',
          outcome,
          credentialId: saved.id,
          ...inWorkspace(saved),
          connector: connector.id,
          detail: scrubSecrets((error as Error).message, secrets),
        });
      throw error;
    }
  }

  private async note(entry: AuditEntry): Promise<void> {
    await this.deps.audit?.note(entry);
  }

  /**
   * A write sealed under the key the store had when it began; if a key rotation started (or even
   * ended) meanwhile, the record is sealed again under the store's key now, so none is left under a
   * key on its way out.
   */
  private async resealIfKeyMoved(id: string, sealedWith: string): Promise<void> {
    const sealer = await this.deps.keys.forWrite();
    if (sealer.kid === sealedWith) return;
    await this.change(id, (record) =>
      record.sealed.kid === sealer.kid ? undefined : { ...record, sealed: resealed(record, sealer) },
    ).catch((error: unknown) => {
      if (!(error instanceof NotFoundError)) throw error;
    });
  }

  private async load(id: string): Promise<CredentialRecord> {
    checkId(id);
    const record = await this.deps.records.get(id);
    const grant = this.scope.current().connect;
    if (!record || !this.scope.sees(record) || (grant && !grantChanges(grant, record)))
      throw new NotFoundError(`no credential ${printable(id)}`);
    return record;
  }

  private openSecrets(record: CredentialRecord): SecretValues {
    if (record.baseUrl !== undefined) checkBaseUrl(record.baseUrl);
    return JSON.parse(this.deps.keys.current.open(record.sealed, associatedData(record), `credential ${record.id}`)) as SecretValues;
  }

  private openSecretsOrNothing(record: CredentialRecord): SecretValues | undefined {
    try {
      return this.openSecrets(record);
    } catch {
      return undefined;
    }
  }

  /** As openSecrets, but a record sealed under a key this process has not loaded yet (a rotation elsewhere) reloads the keys once. */
  private async openSecretsFresh(record: CredentialRecord): Promise<SecretValues> {
    if (!this.deps.keys.current.knows(record.sealed.kid)) await this.deps.keys.refresh();
    return this.openSecrets(record);
  }

  /**
   * Reads a record, changes it and writes it over the revision it read. When another process
   * wrote in between, the change is made again on what that one saved, so neither is lost; after
   * CHANGE_ATTEMPTS lost races it is refused. `change` returning undefined writes nothing.
   */
  private async change(
    id: string,
    apply: (record: CredentialRecord) => CredentialRecord | undefined,
    doing = 'changed',
    events?: EventsOf,
  ): Promise<CredentialTile> {
    checkId(id);
    const outbox = this.deps.outbox;
    if (!outbox || !events) return toTile((await this.swapped(id, apply, doing)).record);
    // The intent is written before the read, the mark goes in the same write as the change: see outbox.ts.
    return outbox.during('credential', id, async (mark) => {
      const { record, written } = await this.swapped(id, apply, doing, events, mark);
      return { result: toTile(record), landed: written ? credentialLanded(record) : undefined };
    });
  }

  /** The read-modify-swap of change(): `events` decides the types on each try's fresh record, `mark` puts them on what is written. */
  private async swapped(
    id: string,
    apply: (record: CredentialRecord) => CredentialRecord | undefined,
    doing: string,
    events?: EventsOf,
    mark?: Mark,
  ) {
    return this.deps.records.change(
      id,
      (found, attempt) => {
        const record = found && this.scope.sees(found) ? found : undefined;
        if (!record)
          throw new NotFoundError(
            attempt === 1 && doing === 'changed'
              ? `no credential ${printable(id)}`
              : `credential ${id} was deleted while it was being ${doing}`,
          );
        const next = apply(record);
        return next && mark && events ? mark(next, events(record, next)) : next;
      },
      {
        attempts: CHANGE_ATTEMPTS,
        conflict: () =>
          new StoreError(
            'write_conflict',
            `credential ${id} was changed by others ${CHANGE_ATTEMPTS} times while this change was being saved; nothing was saved ` +
              `by this one: try again`,
          ),
      },
    );
  }

  /**
   * A new record written, with `credential.created` when an outbox is wired: the intent is written
   * only now, after the provider's check, so it is in flight for the put's milliseconds only.
   */
  private async written(record: CredentialRecord): Promise<void> {
    const outbox = this.deps.outbox;
    if (!outbox) return this.deps.records.put(record.id, record);
    await outbox.during('credential', record.id, async (mark) => {
      const marked = mark(record, ['credential.created']);
      await this.deps.records.put(record.id, marked);
      return { result: undefined, landed: credentialLanded(marked) };
    });
  }

  /**
   * A record deleted, with `credential.deleted` (the tile as it was) when an outbox is wired. A
   * damaged record (`record` undefined) has no tile to send: it goes without an event.
   */
  private removed(id: string, record: CredentialRecord | undefined): Promise<boolean> {
    const outbox = this.deps.outbox;
    if (!outbox || !record) return this.deps.records.delete(id);
    const type = 'credential.deleted';
    return outbox.deleting('credential', id, record.workspace ?? DEFAULT_WORKSPACE, type, credentialEventData(record, type), () =>
      this.deps.records.delete(id),
    );
  }

  /** How the outbox's recover() reads a credential after a crash (open-credport registers it as `credential`). */
  eventSubject(): EventSubject {
    return subjectOf((id) => this.deps.records.get(id), credentialLanded);
  }
}

/**
 * A refusal makes `credential.invalidated` only when the record was not invalid already (as the
 * store had it at the write): a tile refused again keeps its newest words and time, and sends nothing.
 */
const newlyInvalid: EventsOf = (before) => (before.status === 'invalid' ? [] : ['credential.invalidated']);

/**
 * A connect session creates credentials of its connectors only, and none in reconnect mode (that
 * session repairs one credential). Refused as beyond its role would be: 403, naming the field.
 */
function refuseBeyondGrant(grant: ConnectGrant, connector: string): void {
  if (grant.mode === 'reconnect') throw new ForbiddenError('a reconnect session repairs its one credential; it does not add credentials');
  if (!grant.connectors.includes(connector))
    throw new ForbiddenError(`this connect session is for ${grant.connectors.join(', ')} credentials, not ${printable(connector)}`);
}

/** What a connect session lists: its connectors' credentials its end user created (or the workspace's, if it says so), and reconnect's. */
function grantLists(grant: ConnectGrant, record: CredentialRecord): boolean {
  return grantChanges(grant, record) || (grant.showWorkspaceCredentials === true && grant.connectors.includes(record.connector));
}

/** What a connect session may test or rotate: reconnect's credential, or one of its connectors its end user created. */
function grantChanges(grant: ConnectGrant, record: CredentialRecord): boolean {
  if (!grant.connectors.includes(record.connector)) return false;
  return record.id === grant.credentialId || (record.endUserId !== undefined && record.endUserId === grant.endUserId);
}

function newCredentialId(): string {
  // 80 random bits in base32: unguessable, short enough to type.
  const bytes = randomBytes(10);
  let bits = 0n;
  for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
  return `cred_${bits.toString(32).padStart(16, '0')}`;
}

/** Frontegg-style region and domain fields pick the base URL; undefined keeps the manifest's default. */
function regionalBaseUrl(connector: Connector, values: Record<string, unknown>): string | undefined {
  const regions = connector.manifest.http.regions;
  if (!regions) return undefined;
  const domain = regions.domainField ? values[regions.domainField] : undefined;
  const region = String(values[regions.field]);
  // Own keys only: a region named like a member of every object's prototype is no region.
  const url =
    typeof domain === 'string' && domain !== ''
      ? `https://${domain}`
      : Object.hasOwn(regions.urls, region)
        ? regions.urls[region]
        : undefined;
  return url === undefined || url === connector.manifest.http.baseUrl ? undefined : checkBaseUrl(url);
}

/** A provider's refusal of a secret just given is about that secret: named by its field, so a form shows it there. */
function onTheSecret(connector: Connector): (error: unknown) => never {
  return (error) => {
    if (error instanceof ProviderRejectedError) error.field = connector.manifest.auth.secret;
    throw error;
  };
}

function checkId(id: string): void {
  if (!isId('credential', id)) {
    throw new InputError(`"${printable(String(id))}" ${malformedId('credential')}`, { field: 'id' });
  }
}

function trimPublicFields(values: object, connector: Connector): Record<string, unknown> {
  const out = ownCopy({});
  for (const [key, value] of Object.entries(values)) {
    out[key] = typeof value === 'string' && !connector.secretFields.includes(key) ? value.trim() : value;
  }
  if (out.description === '') delete out.description;
  return out;
}

/**
 * A copy of a caller's object with no prototype. JSON.parse makes "__proto__" an own key; copied by
 * assignment into `{}` it would set the copy's prototype instead (its keys then validated as if
 * the caller had sent them, or the key silently dropped). Here it stays a key, refused by its name.
 */
function ownCopy(source: object): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of Object.entries(source)) out[key] = value;
  return out;
}

function pick(values: Record<string, unknown>, keys: readonly string[]): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const key of keys) if (typeof values[key] === 'string') out[key] = values[key] as string;
  return out;
}

/**
 * A rotation replaces the secret fields only: a public field given with them (the name) would be
 * taken by the form's check, so the connector's secret fields are the only ones allowed.
 */
function refuseOtherThanSecrets(secrets: object, allowed: readonly string[]): void {
  const unknown = Object.keys(secrets).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new InputError(`rotate secrets has an unknown field "${printable(unknown[0]!)}" (allowed: ${allowed.join(', ')})`, {
      field: unknown[0]!,
    });
  }
}

/** The audit event of a record's change goes in the record's workspace (a schedule's pass spans them all). */
function inWorkspace(record: { workspace?: string } | undefined): { workspace?: string } {
  return record?.workspace !== undefined ? { workspace: record.workspace } : {};
}
