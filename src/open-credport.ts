import { CredentialService } from './credentials/credential-service.js';
import { StoreError } from './errors.js';
import type { HttpSettings } from './http/provider-client.js';
import { ConnectorRegistry } from './registry/connector-registry.js';
import { allowedOriginsFromEnv, connectorDirsFromEnv, httpSettingsFromEnv, leaseMsFromEnv, webhookTimeoutFromEnv } from './settings.js';
import { OutboundPolicy } from './http/outbound-policy.js';
import type { DestinationConfig } from './generated/destination.js';
import type { SourceConfig } from './generated/source.js';
import { Collection, damaged } from './store/collection.js';
import { CredentialRecords } from './store/credential-records.js';
import { SavedConfigs } from './configs/config-service.js';
import type { SyncState } from './sync/sync-engine.js';
import { SyncService } from './sync/sync-service.js';
import type { LedgerEntry } from './sync/writers/provider-writer.js';
import { LEASE_PREFIX, type LeaseRecord } from './sync/destination-lease.js';
import { loadMasterKeys } from './keys/master-key.js';
import { openKeyv } from './store/open-keyv.js';
import { failureReason } from './text/failure-reason.js';
import { redactUri, secretsOfUri } from './text/redact-uri.js';
import type { SharedWindows } from './http/shared-window.js';
import { StoreKeys } from './keys/key-state.js';
import { KeyService } from './keys/key-rotation.js';
import type { ReverifyOptions, ReverifySummary } from './credentials/reverify.js';
import type { ReverifySchedule } from './credentials/reverify-schedule.js';
import { type Access, AccessScope, checkWorkspace } from './access/access.js';
import { type AccessToken, AccessTokens, tokenActor } from './access/access-tokens.js';
import { AuditLog, type AuditEvent } from './audit/audit-log.js';
import { ConnectSessions, type ConnectSessionRecord } from './connect/connect-sessions.js';
import { ConnectorCatalog } from './catalog/connector-catalog.js';
import { WebhookEndpoints, type WebhookEndpointRecord } from './webhooks/webhook-endpoints.js';
import { nonEmpty, resolveStoreLocation, type StoreLocation } from './store/store-location.js';
import { Outbox, type OutboxEvent } from './webhooks/outbox.js';
import { type DeliveryRecord, deliveryKey, WebhookDeliveries } from './webhooks/webhook-deliveries.js';
import { DeliveryLoop, type RunningDelivery } from './webhooks/delivery-loop.js';
import { retryDelaysFromEnv } from './webhooks/retry-schedule.js';

export interface CredportOptions {
  /** Folder of the default store and key file; else CREDPORT_HOME, $XDG_DATA_HOME/credport, ~/.local/share/credport. */
  home?: string;
  /** keyv URI; else CREDPORT_STORE, else sqlite://<home>/credport.sqlite. */
  storeUri?: string;
  /** Base64 master key; else CREDPORT_MASTER_KEY, else <home>/master.key (created on first use). */
  masterKey?: string;
  /** Base64 key a rotation moves to (`keys.rotate()`); else CREDPORT_MASTER_KEY_NEXT, else <home>/master.key.next when the key is a file. */
  nextMasterKey?: string;
  /** Folders of extra connectors, after the built-in ones; else CREDPORT_CONNECTORS. */
  extraConnectorDirs?: string[];
  http?: Partial<HttpSettings>;
  /** Redis for the rate budgets every process shares per credential; else CREDPORT_REDIS; else each process keeps its own. */
  redisUrl?: string;
  /** Who acts, in the audit trail, when a call sets no actor (withActor): the CLI gives cli:<OS user>. */
  actor?: string;
  /** The workspace and role of calls made outside withAccess (default: the default workspace, admin); the CLI's --workspace. */
  access?: Access;
  /**
   * Origins a workspace's credentials may point at besides the connectors' own (`https://x`, or
   * `front=http://127.0.0.1:4010` for one connector), and `webhooks=<origin>` for its webhook
   * endpoints; else CREDPORT_ALLOWED_ORIGINS.
   */
  allowedOrigins?: string[];
  /** The outbound policy itself, when the host makes its own (its own resolver, say); allowedOrigins is then ignored. */
  outbound?: OutboundPolicy;
  /** Environment to read the variables above from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface Credport {
  readonly registry: ConnectorRegistry;
  /** The connectors and forms the caller (withAccess) is offered: a connect session's, only its own; a form's baseUrlField. */
  readonly connectors: ConnectorCatalog;
  readonly credentials: CredentialService;
  /** Sources and destinations: saved configurations pointing at credentials. */
  readonly configs: SavedConfigs;
  readonly syncs: SyncService;
  /** The master key: its status, and rotation to a new one with the store in use. */
  readonly keys: KeyService;
  /** The append-only trail of credential events. */
  readonly audit: AuditLog;
  /** API tokens scoped to a workspace with a role (the server's callers). */
  readonly tokens: AccessTokens;
  /** Connect sessions a host's back end mints for its end users: createSession, getSession, revokeSession, exchange. */
  readonly connect: ConnectSessions;
  /** The workspace's webhook endpoints (admins): register, list, change, delete, rotate-secret, and a signed test delivery. */
  readonly webhooks: WebhookEndpoints;
  /** What was sent to a workspace's endpoint (attempts, answers), and sending a failed delivery again (admins). */
  readonly webhookDeliveries: WebhookDeliveries;
  /** The webhook events, each written with the change that made it, waiting to be fanned out to the endpoints. */
  readonly outbox: Outbox;
  /**
   * Delivers the outbox's events to their endpoints now and every `everyMs` (default 1 s) until
   * stopped: serve and worker run it; several processes on one store share the work through leases.
   */
  deliverWebhooks(options?: { everyMs?: number }): RunningDelivery;
  /** Delivers what is due now and waits for it (a host without a running loop, a test); later retries are not waited for. */
  deliverWebhooksNow(): Promise<void>;
  /** The workspace and role of the call under way (withAccess), else this instance's own. */
  readonly access: AccessScope;
  /** Where credentials may send requests: the origins the operator allows a workspace's credentials (`allow()` adds one). */
  readonly outbound: OutboundPolicy;
  /** Re-tests every credential not verified within a time (credport credentials verify --stale). */
  reverify(options: Omit<ReverifyOptions, 'sharedWindows'>): Promise<ReverifySummary>;
  /** The same, now and then every `everyMs`, until stopped (serve and worker --reverify-every). */
  scheduleReverify(
    everyMs: number,
    options?: { onPass?: (summary: ReverifySummary) => void; onError?: (error: unknown) => void },
  ): Promise<ReverifySchedule>;
  readonly location: StoreLocation;
  close(): Promise<void>;
}

export async function loadRegistry(options: Pick<CredportOptions, 'extraConnectorDirs' | 'env'> = {}): Promise<ConnectorRegistry> {
  const env = options.env ?? process.env;
  return ConnectorRegistry.load({ extraConnectorDirs: options.extraConnectorDirs ?? connectorDirsFromEnv(env) });
}

/** The composition root a host (and the CLI) calls: registry, store, master key, services. */
export async function openCredport(options: CredportOptions = {}): Promise<Credport> {
  const env = options.env ?? process.env;
  const http = httpSettingsFromEnv(env, options.http);
  const registry = await loadRegistry(options);
  // Checked before the store opens: a mistyped origin is named before anything else happens.
  const outbound = options.outbound ?? new OutboundPolicy({ allow: options.allowedOrigins ?? allowedOriginsFromEnv(env) });
  const location = resolveStoreLocation({ home: options.home, storeUri: options.storeUri, env });
  const keySources = {
    envValue: options.masterKey ?? env.CREDPORT_MASTER_KEY,
    nextEnvValue: options.nextMasterKey ?? env.CREDPORT_MASTER_KEY_NEXT,
    keyFile: location.keyFile,
  };
  // Read before the store opens: a malformed key is named before any connection is made.
  const heldAtOpen = await loadMasterKeys(keySources);
  const opened = await openKeyv(location.uri);
  let sharedWindows: SharedWindows | undefined;
  try {
    sharedWindows = await openSharedWindows(options.redisUrl ?? nonEmpty(env.CREDPORT_REDIS));
    const records = new CredentialRecords(opened);
    const keys = await StoreKeys.open(
      records,
      heldAtOpen,
      () => loadMasterKeys(keySources),
      heldAtOpen[0]!.source === 'env' ? 'CREDPORT_MASTER_KEY' : location.keyFile,
    );
    const collection = <T extends object>(prefix: string, kind: string, fix: string, bulk = false) =>
      new Collection<T>(
        opened,
        prefix,
        (value, id) => {
          if (value === null || typeof value !== 'object' || ('damaged' in value && Object.keys(value).length === 1))
            throw damaged(kind, id, 'it is not valid JSON', fix);
          return value as T;
        },
        undefined,
        undefined,
        bulk,
      );
    // The credential service asks the configs what uses a credential; the configs ask it for tiles.
    let configs: SavedConfigs | undefined;
    // The connect sessions read a credential (reconnect's); the credentials tell them what an end user did.
    let connect: ConnectSessions | undefined;
    const access = new AccessScope(
      options.access ? { workspace: checkWorkspace(options.access.workspace), role: options.access.role } : undefined,
    );
    // The services write their events here; a running delivery loop in this process is woken by each.
    let wakeDelivery: () => void = () => undefined;
    const outbox = new Outbox(collection<OutboxEvent>('webhook-event:', 'webhook event', 'leave it: the delivery loop settles it'), {
      onReady: () => wakeDelivery(),
    });
    const audit = new AuditLog(
      // Bulk: an event or more for every change, listed whole (the trail, a credential's events).
      collection<AuditEvent>('audit:', 'audit event', 'it cannot be changed: leave it, or restore the store from a backup', true),
      options.actor ?? 'library',
      undefined,
      access,
    );
    const credentials = new CredentialService({
      registry,
      records,
      keys,
      audit,
      access,
      http,
      outbound,
      usersOf: (id) => configs!.usersOf(id),
      // After the credential is saved: a session that cannot note it must not make the save look failed.
      connectOutcome: (sessionId, action, credentialId) =>
        connect!.recordOutcome(sessionId, action, credentialId).catch((error: unknown) => {
          process.emitWarning(`connect session ${sessionId} could not record its outcome: ${failureReason(error)}`, {
            code: 'CREDPORT_CONNECT',
          });
        }),
      connectStillOpen: (sessionId) => connect!.refuseIfEnded(sessionId),
      outbox,
    });
    connect = new ConnectSessions(
      collection<ConnectSessionRecord>('connect:', 'connect session', 'revoke it with: credport connect session revoke'),
      access,
      registry,
      credentials,
      audit,
      outbox,
    );
    // How recover() reads each kind of record whose changes make events, after a crash.
    outbox.register('credential', credentials.eventSubject());
    outbox.register('connect', connect.eventSubject());
    configs = new SavedConfigs({
      registry,
      credentials,
      sources: collection<SourceConfig>('source:', 'source', 'delete it with: credport sources delete'),
      destinations: collection<DestinationConfig>('destination:', 'destination', 'delete it with: credport destinations delete'),
      home: location.home,
      access,
    });
    const syncs = new SyncService({
      registry,
      credentials,
      configs,
      state: collection<SyncState>('sync:', 'sync state', 'run the sync with --full-refresh'),
      ledger: collection<LedgerEntry>('ledger:', 'write ledger entry', 'delete the destination and add it again'),
      leases: collection<LeaseRecord>(
        LEASE_PREFIX,
        'destination lease',
        'wait for its sync to end, then delete the destination and add it again',
      ),
      ...leaseMsFromEnv(env),
      ...(sharedWindows ? { sharedWindows } : {}),
      audit,
      access,
      home: location.home,
      outbox,
    });
    const webhooks = new WebhookEndpoints(
      collection<WebhookEndpointRecord>('webhook:', 'webhook endpoint', 'delete it with: credport webhooks delete'),
      access,
      keys,
      outbound,
      audit,
      webhookTimeoutFromEnv(env),
    );
    const deliveryRecords = new Collection<DeliveryRecord>(
      opened,
      'webhook-delivery:',
      (value, id) => {
        if (value === null || typeof value !== 'object' || 'damaged' in value)
          throw damaged('webhook delivery', id, 'it is not valid JSON', 'delete the endpoint and add it again');
        return value as DeliveryRecord;
      },
      'endpointId',
    );
    // A deleted endpoint's deliveries have nowhere to go.
    webhooks.onDeleted = async (id) => {
      const left = await deliveryRecords.where('endpointId', id);
      await deliveryRecords.deleteMany(
        left.map((d) => deliveryKey(d.endpointId, d.eventId)),
        () => id,
      );
    };
    const retryDelays = retryDelaysFromEnv(env);
    const deliveryLoop = new DeliveryLoop({
      outbox,
      deliveries: deliveryRecords,
      endpoints: webhooks,
      leases: collection<LeaseRecord>(LEASE_PREFIX, 'lease', 'wait for it to run out'),
      ...(retryDelays ? { retryDelays } : {}),
      ...leaseMsFromEnv(env),
    });
    let runningDelivery: RunningDelivery | undefined;
    wakeDelivery = () => runningDelivery?.wake();
    const close = async () => {
      await runningDelivery?.stop();
      await sharedWindows?.close();
      await opened.close();
    };
    const shared = sharedWindows ? { sharedWindows } : {};
    return {
      registry,
      connectors: new ConnectorCatalog(registry, access, outbound),
      credentials,
      configs,
      syncs,
      keys: new KeyService({ records, keys, audit, access, alsoSealed: [webhooks] }),
      audit,
      access,
      outbound,
      connect,
      webhooks,
      webhookDeliveries: new WebhookDeliveries(deliveryRecords, webhooks, audit, () => wakeDelivery()),
      outbox,
      deliverWebhooks: (options = {}) => {
        runningDelivery ??= deliveryLoop.start(options.everyMs);
        return runningDelivery;
      },
      deliverWebhooksNow: () => deliveryLoop.drain(),
      tokens: new AccessTokens(
        collection<AccessToken>('token:', 'API token', 'revoke it with: credport tokens delete'),
        access,
        undefined,
        // A session lives up to 4 hours: one minted with a leaked token must not outlive the token.
        (id) => connect.revokeMintedBy(tokenActor(id)),
      ),
      // Loaded when used: the rate gate is for commands that talk to providers.
      reverify: async (options) => (await import('./credentials/reverify.js')).reverifyStale(credentials, { ...options, ...shared }),
      scheduleReverify: async (everyMs, options = {}) =>
        (await import('./credentials/reverify-schedule.js')).scheduleReverify(credentials, everyMs, { ...options, ...shared }),
      location,
      close,
    };
  } catch (error) {
    await sharedWindows?.close().catch(() => undefined);
    await opened.close().catch(() => undefined);
    throw error;
  }
}

/** Redis for the shared rate budgets, loaded only when one is named. */
async function openSharedWindows(url: string | undefined): Promise<SharedWindows | undefined> {
  if (url === undefined) return undefined;
  const { openRedisWindows } = await import('./http/shared-rate-windows.js');
  try {
    return await openRedisWindows(url);
  } catch (error) {
    throw new StoreError(
      'store_unavailable',
      `the Redis for shared rate limits (CREDPORT_REDIS ${redactUri(url)}) cannot be used: ${failureReason(error, secretsOfUri(url))}`,
    );
  }
}
