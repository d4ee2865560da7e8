import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type AccessScope, DEFAULT_WORKSPACE } from '../access/access.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { CredentialService } from '../credentials/credential-service.js';
import { InputError, SyncCancelledError } from '../errors.js';
import type { CredentialTile } from '../generated/credential-tile.js';
import type { DestinationConfig } from '../generated/destination.js';
import type { SourceConfig } from '../generated/source.js';
import type { ClientEvent, HttpSettings, ProviderClient } from '../http/provider-client.js';
import { gateFor } from '../http/rate-gate.js';
import type { ConnectorRegistry } from '../registry/connector-registry.js';
import type { Collection } from '../store/collection.js';
import { printable } from '../text/printable.js';
import { FileScope } from './file-scope.js';
import { jsonlReader } from './readers/jsonl-reader.js';
import { providerReader } from './readers/provider-reader.js';
import { acquireLease, type LeaseRecord, refuseIfLeased } from './destination-lease.js';
import type { SharedWindows } from '../http/shared-window.js';
import { RejectsFile } from './rejects-file.js';
import { checkConcurrency } from './concurrency.js';
import { checkRequirement } from './requirements.js';
import { checkMapping, checkStreamNames, type SavedConfigs } from '../configs/config-service.js';
import type { SyncEvent } from '../generated/sync-event.js';
import type { SyncSummary } from '../generated/sync-summary.js';
import { rateMeter } from './rate-meter.js';
import { runSync, type StreamPlan, type SyncState } from './sync-engine.js';
import { JsonlWriter } from './writers/jsonl-writer.js';
import type { WebhookEventType } from '../generated/webhook-event-type.js';
import type { Outbox } from '../webhooks/outbox.js';
import { type SyncRef, syncFailedData, syncSucceededData } from '../webhooks/webhook-events.js';
import { failureReason } from '../text/failure-reason.js';
import { type LedgerEntry, ProviderWriter } from './writers/provider-writer.js';
import { publish } from '../telemetry/channels.js';
import { traced } from '../telemetry/tracing.js';

export interface RunSyncOptions {
  /** A subset of the source's streams; default all of them. */
  streams?: string[];
  /** Forget the checkpoint and start every stream over (a provider destination's ledger still prevents duplicates). */
  fullRefresh?: boolean;
  onEvent?: (event: SyncEvent) => void;
  /** Abort to stop after the current page's checkpoint; the next sync finishes the run. */
  signal?: AbortSignal;
  /** Requests in flight at once (streams side by side, pages ahead); default the source's setting, else its connector's. */
  concurrency?: number;
  /** The job this run is (the server's sync_…, the queue's job id): named in the run's webhook event. */
  jobId?: string;
}

/** Syncs need more patience than a verification: 429s and 5xx are absorbed, not reported. */
export const SYNC_HTTP: HttpSettings = { timeoutMs: 30_000, retries: 8 };

export class SyncService {
  constructor(
    private readonly deps: {
      registry: ConnectorRegistry;
      credentials: CredentialService;
      configs: SavedConfigs;
      state: Collection<SyncState>;
      ledger: Collection<LedgerEntry>;
      /** One lease per destination, in the shared store. */
      leases: Collection<LeaseRecord>;
      /** How long a lease outlives a holder that stopped renewing it (CREDPORT_LEASE_MS). */
      leaseMs?: number;
      /** Each credential's rate budget shared with other processes and machines (CREDPORT_REDIS). */
      sharedWindows?: SharedWindows;
      /** Workspaces and roles: running a sync needs the editor role (its source and destination are looked up in the caller's workspace). */
      access?: AccessScope;
      /** Records each credential a sync uses, once the sync holds its destination. */
      audit?: AuditLog;
      home: string;
      http?: HttpSettings;
      /** Where each run's end is written as a webhook event (sync.succeeded, sync.failed); none: no events. */
      outbox?: Outbox;
    },
  ) {}

  /** Checks a sync request before anything runs (a host answers 400/404 at once); returns what it would run. */
  async check(
    sourceId: string,
    destinationId: string,
    streams?: string[],
  ): Promise<{ source: SourceConfig; destination: DestinationConfig; streams: string[] }> {
    this.deps.access?.require('editor', 'running a sync');
    const source = await this.deps.configs.source(sourceId);
    const destination = await this.deps.configs.destination(destinationId);
    const wanted = streams?.length ? streams : source.streams;
    // Each stream once: a stream named twice would be read (and counted) twice.
    const twice = wanted.find((s, i) => wanted.indexOf(s) !== i);
    if (twice !== undefined)
      throw new InputError(`stream "${printable(twice)}" is named more than once in streams; name each stream once`, { field: 'streams' });
    const unknown = wanted.filter((s) => !source.streams.includes(s));
    if (unknown.length > 0)
      throw new InputError(`source ${source.id} does not read "${printable(unknown[0]!)}" (its streams: ${source.streams.join(', ')})`, {
        field: 'streams',
      });
    checkSaved(destination, wanted);
    if (destination.operations) {
      const unmapped = wanted.filter((s) => !Object.hasOwn(destination.operations!, s) || !destination.operations![s]);
      if (unmapped.length > 0) {
        throw new InputError(
          `destination ${destination.id} has no operation for stream ${unmapped.join(', ')} (it writes: ` +
            `${Object.keys(destination.operations).join(', ')}); pick streams with --streams`,
          { field: 'streams' },
        );
      }
    }
    return { source, destination, streams: wanted };
  }

  /** Refused as busy (destination_busy) while another sync holds the destination's lease: a courtesy, the run's lease still decides. */
  async refuseIfBusy(destinationId: string): Promise<void> {
    await refuseIfLeased(this.deps.leases, destinationId);
  }

  /**
   * Runs the sync once. A request refused before anything runs (an unknown source, a stream it does
   * not read) is not a run and makes no event; every run that gets past those checks ends with one
   * webhook event: `sync.succeeded` when it returns, `sync.failed` (the error's code) when it throws.
   * One per call: the CLI, the server's sync jobs and the queue's worker all end a run here, and a
   * queued job retried after a failure is one run (and one event) per try.
   */
  async run(sourceId: string, destinationId: string, options: RunSyncOptions = {}): Promise<SyncSummary> {
    const checked = await this.check(sourceId, destinationId, options.streams);
    const workspace = checked.source.workspace ?? DEFAULT_WORKSPACE;
    const sync: SyncRef = {
      sourceId: checked.source.id,
      destinationId: checked.destination.id,
      ...(options.jobId !== undefined ? { jobId: options.jobId } : {}),
    };
    let summary: SyncSummary;
    publish('credport:sync-run', () => ({ outcome: 'started' }));
    try {
      summary = await this.tracedRun(checked, options);
    } catch (error) {
      publish('credport:sync-run', () => ({ outcome: endedBy(error) }));
      await this.publish(workspace, 'sync.failed', syncFailedData(workspace, sync, error));
      throw error;
    }
    publish('credport:sync-run', () => ({ outcome: 'succeeded' }));
    await this.publish(workspace, 'sync.succeeded', syncSucceededData(workspace, sync, summary));
    return summary;
  }

  /**
   * A run's end as a ready event. The run's own outcome stands whatever happens here: a store that
   * cannot take the event (the same store the run just wrote its checkpoint to) is warned about, not
   * made the run's failure, which would send a finished sync round again.
   */
  private async publish(workspace: string, type: WebhookEventType, data: object): Promise<void> {
    await this.deps.outbox?.publish(workspace, type, data as Record<string, unknown>).catch((error: unknown) => {
      process.emitWarning(`the ${type} webhook event of a sync could not be written: ${failureReason(error)}`, {
        code: 'CREDPORT_WEBHOOK',
      });
    });
  }

  /**
   * The run as the root span of its own trace (its streams and their requests nest below): a run a
   * request or a job started outlives what started it, so it is linked to that span, not its child.
   */
  private tracedRun(checked: Awaited<ReturnType<SyncService['check']>>, options: RunSyncOptions): Promise<SyncSummary> {
    const attributes = { 'credport.connector': checked.source.connector, 'credport.destination_connector': checked.destination.connector };
    return traced('credport.sync', { root: true, attributes }, async (span) => {
      try {
        const summary = await this.runChecked(checked, options);
        if (span.isRecording()) span.setAttributes({ 'credport.outcome': 'succeeded', 'credport.records': summary.records });
        return summary;
      } catch (error) {
        if (span.isRecording()) span.setAttribute('credport.outcome', endedBy(error));
        throw error;
      }
    });
  }

  private async runChecked(
    { source, destination, streams: wanted }: Awaited<ReturnType<SyncService['check']>>,
    options: RunSyncOptions,
  ): Promise<SyncSummary> {
    const onEvent = options.onEvent ?? (() => undefined);
    const counters = { rateLimited: 0, retries: 0 };
    const readsFrom = source.connector === 'jsonl' ? undefined : this.deps.registry.get(source.connector);
    const writesTo = destination.connector === 'jsonl' ? undefined : this.deps.registry.get(destination.connector);
    const concurrency = checkConcurrency(options.concurrency ?? source.concurrency ?? readsFrom?.manifest.http.concurrency ?? 1);
    // A client per credential; each stream gets a view of it that reports waits on that stream
    // (one auth strategy, so one token exchange for all of them), all on the credential's one gate.
    const gateOf = (credentialId: string) => {
      const gate = gateFor(credentialId);
      if (this.deps.sharedWindows) gate.share(this.deps.sharedWindows.for(credentialId));
      return gate;
    };
    const clientFor = (credentialId: string): Promise<ProviderClient> =>
      this.deps.credentials.client(credentialId, { http: this.deps.http ?? SYNC_HTTP, gate: gateOf(credentialId), credentialId });
    const readerClient = source.credentialId ? await clientFor(source.credentialId) : undefined;
    const writerClient = destination.credentialId ? await clientFor(destination.credentialId) : undefined;
    const streamEvents = (stream: string) => clientEventsOf(stream, counters, onEvent);
    // Read once: every stream's requirement (Frontline's USER key) is checked against the same tiles.
    const tiles = {
      source: readerClient ? await this.deps.credentials.show(source.credentialId!) : undefined,
      destination: writerClient ? await this.deps.credentials.show(destination.credentialId!) : undefined,
    };
    // A tenant's files (and its rejects) stay in its workspace folder, re-checked as each is opened.
    const files = FileScope.of(this.deps.home, this.deps.access?.current());
    const rejects = new RejectsFile(join(files.base, 'syncs', `${source.id}__${destination.id}.rejects.jsonl`), files);
    const shared = sharedOperations(destination, wanted);

    // Held before anything is planned: every checkpoint and ledger entry of the run is written fenced by it.
    const lease = await acquireLease(this.deps.leases, destination.id, this.deps.leaseMs ? { ttlMs: this.deps.leaseMs } : {});
    const ledger = this.deps.ledger.fencedBy(lease.fence);
    const plans: StreamPlan[] = [];
    const budget = source.credentialId ?? destination.credentialId;
    const rate = budget ? rateMeter(gateFor(budget), (readsFrom ?? writesTo)?.manifest.http.rateLimit?.windowMs) : undefined;
    try {
      for (const [credentialId, tile, role] of [
        [source.credentialId, tiles.source, 'read'],
        [destination.credentialId, tiles.destination, 'write'],
      ] as const) {
        if (credentialId && tile)
          await this.deps.audit?.record({
            action: 'credential.used',
            outcome: 'ok',
            credentialId,
            connector: tile.connector,
            detail: `sync ${source.id} -> ${destination.id} (${role})`,
          });
      }
      // A stream's name as a metric label: only names the connectors' manifests declare (a jsonl file's are anyone's).
      const declared = new Set([...Object.keys(readsFrom?.manifest.streams ?? {}), ...Object.keys(writesTo?.manifest.operations ?? {})]);
      for (const name of wanted) {
        const measured = {
          stream: declared.has(name) ? name : 'other',
          read: source.connector,
          write: destination.connector,
        };
        // Each request's span names its stream as the metrics do: a manifest's name, or `other`.
        const clients = {
          reader: readerClient?.withEvents(streamEvents(name), measured.stream),
          writer: writerClient?.withEvents(streamEvents(name), measured.stream),
        };
        plans.push({
          measured,
          ...(await this.plan(
            name,
            source,
            destination,
            tiles,
            clients,
            rejects,
            { ahead: concurrency, shared: shared.has(name), ledger, files },
            (e) => onEvent(e),
          )),
        });
      }
      // One budget per credential in this process, set by the sync that holds the destination: the
      // source's setting bounds its requests in flight; a destination on another credential keeps
      // its connector's (or the run's --concurrency).
      if (source.credentialId) gateFor(source.credentialId).limitInFlight(concurrency);
      if (destination.credentialId && destination.credentialId !== source.credentialId) {
        gateFor(destination.credentialId).limitInFlight(options.concurrency ?? writesTo?.manifest.http.concurrency ?? concurrency);
      }
      return await runSync(
        {
          key: `${source.id}:${destination.id}`,
          sourceId: source.id,
          destinationId: destination.id,
          streams: plans,
          fullRefresh: options.fullRefresh === true,
          ...(options.signal ? { signal: options.signal } : {}),
          concurrency,
          ...(rate ? { rate } : {}),
          state: this.deps.state.fencedBy(lease.fence),
          rejects,
          onEvent,
          onRejected: async (error) => {
            if (error.credentialId) await this.deps.credentials.markInvalid(error.credentialId, error.message);
          },
        },
        counters,
      );
    } finally {
      await lease.release();
    }
  }

  private async plan(
    name: string,
    source: SourceConfig,
    destination: DestinationConfig,
    tiles: { source: CredentialTile | undefined; destination: CredentialTile | undefined },
    { reader: readerClient, writer: writerClient }: { reader: ProviderClient | undefined; writer: ProviderClient | undefined },
    rejects: RejectsFile,
    { ahead, shared, ledger, files }: { ahead: number; shared: boolean; ledger: Collection<LedgerEntry>; files: FileScope },
    onEvent: (event: SyncEvent) => void,
  ): Promise<StreamPlan> {
    const scopes: string[] = [];
    let reader: StreamPlan['reader'];
    let cursorField: string | undefined;
    if (readerClient) {
      const connector = this.deps.registry.get(source.connector);
      const stream = connector.manifest.streams![name]!;
      checkRequirement(stream.requires, tiles.source!, `${connector.manifest.title} stream ${name}`);
      scopes.push(...stream.scopes);
      cursorField = stream.incremental?.cursorField;
      reader = (since) => providerReader({ client: readerClient, provider: connector.manifest.title, name, stream, since, onEvent, ahead });
    } else {
      const path = source.path!;
      const info = await stat(path).catch(() => undefined);
      if (!info) throw new InputError(`no such file or folder: ${printable(files.show(path), 120)}`, { field: 'path' });
      const file = info.isDirectory() ? join(path, `${name}.jsonl`) : path;
      reader = () => jsonlReader(file, files);
    }

    let writer: StreamPlan['writer'];
    if (writerClient) {
      const connector = this.deps.registry.get(destination.connector);
      const operationName = destination.operations![name]!;
      const operation = connector.operations.get(operationName);
      if (!operation)
        throw new InputError(
          `destination ${destination.id} names operation ${printable(operationName)}, which ${connector.id} no longer has`,
          { field: 'operations' },
        );
      checkRequirement(operation.config.requires, tiles.destination!, `${connector.manifest.title} operation ${operationName}`);
      scopes.push(...operation.config.scopes);
      writer = async () =>
        new ProviderWriter({
          client: writerClient,
          provider: connector.manifest.title,
          stream: name,
          operationName,
          operation: operation.config,
          validate: operation.validate,
          mapping: destination.mapping && Object.hasOwn(destination.mapping, name) ? destination.mapping[name] : undefined,
          params: destination.params ?? {},
          ledger,
          ledgerScope: destination.id,
          sharedKeys: shared,
          reject: (r) => rejects.add(r),
        });
    } else {
      writer = (offset) => JsonlWriter.open(destination.path!, name, offset, files);
    }
    return { name, scopes, reader, writer, appendAcrossRuns: cursorField !== undefined, ...(cursorField ? { cursorField } : {}) };
  }
}

/**
 * A source or destination saved by an older release, before names and pointers were checked on
 * save, is checked again before it runs: a stream named like a prototype slot, or a mapping whose
 * pointer has a `__proto__`, `constructor` or `prototype` segment, stops the sync before any request.
 */
function checkSaved(destination: DestinationConfig, streams: string[]): void {
  checkStreamNames(streams, 'streams');
  try {
    checkStreamNames(Object.keys(destination.operations ?? {}), 'operations');
    for (const [stream, pointers] of Object.entries(destination.mapping ?? {})) checkMapping(stream, pointers);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    throw new InputError(`destination ${destination.id} cannot be used: ${error.message}; delete it and add it again`, {
      ...(error.field ? { field: error.field } : {}),
    });
  }
}

/** A client's waits, reported on the stream that met them and counted for the summary. */
function clientEventsOf(stream: string, counters: { rateLimited: number; retries: number }, onEvent: (event: SyncEvent) => void) {
  return (event: ClientEvent): void => {
    if (event.type === 'rate_limited') {
      counters.rateLimited += 1;
      onEvent({ event: 'rate_limited', stream, waitMs: event.waitMs });
    } else {
      counters.retries += 1;
      onEvent({ event: 'retry', stream, waitMs: event.waitMs, reason: event.reason });
    }
  };
}

/**
 * The streams written with an operation another stream of the run also writes with: they share its
 * ledger keys, so their writes read the ledger under the key's lock.
 */
function sharedOperations(destination: DestinationConfig, streams: string[]): Set<string> {
  const users = new Map<string, string[]>();
  for (const stream of streams) {
    const operation = destination.operations?.[stream];
    if (operation) users.set(operation, [...(users.get(operation) ?? []), stream]);
  }
  return new Set([...users.values()].filter((names) => names.length > 1).flat());
}

/** How a run that threw ended, as the metrics and the run's span name it. */
function endedBy(error: unknown): 'cancelled' | 'failed' {
  return error instanceof SyncCancelledError ? 'cancelled' : 'failed';
}
