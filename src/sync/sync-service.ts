import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CredentialService } from '../credentials/credential-service.js';
import { InputError } from '../errors.js';
import type { CredentialTile } from '../generated/credential-tile.js';
import type { DestinationConfig } from '../generated/destination.js';
import type { SourceConfig } from '../generated/source.js';
import type { ClientEvent, HttpSettings, ProviderClient } from '../http/provider-client.js';
import { gateFor } from '../http/rate-gate.js';
import type { ConnectorRegistry } from '../registry/connector-registry.js';
import type { Collection } from '../store/collection.js';
import { printable } from '../text/printable.js';
import { jsonlReader } from './readers/jsonl-reader.js';
import { providerReader } from './readers/provider-reader.js';
import { lockDestination } from './destination-lock.js';
import { RejectsFile } from './rejects-file.js';
import { checkRequirement } from './requirements.js';
import type { SavedConfigs } from './saved-configs.js';
import type { SyncEvent, SyncSummary } from './sync-events.js';
import { runSync, type StreamPlan, type SyncState } from './sync-engine.js';
import { JsonlWriter } from './writers/jsonl-writer.js';
import { type LedgerEntry, ProviderWriter } from './writers/provider-writer.js';

export interface RunSyncOptions {
  /** A subset of the source's streams; default all of them. */
  streams?: string[];
  /** Forget the checkpoint and start every stream over (a provider destination's ledger still prevents duplicates). */
  fullRefresh?: boolean;
  onEvent?: (event: SyncEvent) => void;
  /** Abort to stop after the current page's checkpoint; the next sync finishes the run. */
  signal?: AbortSignal;
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
      home: string;
      http?: HttpSettings;
    },
  ) {}

  /** Checks a sync request before anything runs (a host answers 400/404 at once); returns what it would run. */
  async check(sourceId: string, destinationId: string, streams?: string[]): Promise<{ source: SourceConfig; destination: DestinationConfig; streams: string[] }> {
    const source = await this.deps.configs.source(sourceId);
    const destination = await this.deps.configs.destination(destinationId);
    const wanted = streams?.length ? streams : source.streams;
    const unknown = wanted.filter((s) => !source.streams.includes(s));
    if (unknown.length > 0) throw new InputError(`source ${source.id} does not read "${printable(unknown[0]!)}" (its streams: ${source.streams.join(', ')})`, { field: 'streams' });
    if (destination.operations) {
      const unmapped = wanted.filter((s) => !destination.operations![s]);
      if (unmapped.length > 0) {
        throw new InputError(`destination ${destination.id} has no operation for stream ${unmapped.join(', ')} (it writes: ${Object.keys(destination.operations).join(', ')}); pick streams with --streams`, { field: 'streams' });
      }
    }
    return { source, destination, streams: wanted };
  }

  async run(sourceId: string, destinationId: string, options: RunSyncOptions = {}): Promise<SyncSummary> {
    const { source, destination, streams: wanted } = await this.check(sourceId, destinationId, options.streams);
    const onEvent = options.onEvent ?? (() => undefined);
    const counters = { rateLimited: 0, retries: 0 };
    let current = wanted[0]!;
    const clientEvents = (event: ClientEvent) => {
      if (event.type === 'rate_limited') {
        counters.rateLimited += 1;
        onEvent({ event: 'rate_limited', stream: current, waitMs: event.waitMs });
      } else {
        counters.retries += 1;
        onEvent({ event: 'retry', stream: current, waitMs: event.waitMs, reason: event.reason });
      }
    };
    const clientFor = (credentialId: string): Promise<ProviderClient> =>
      this.deps.credentials.client(credentialId, { http: this.deps.http ?? SYNC_HTTP, gate: gateFor(credentialId), onEvent: clientEvents, credentialId });
    const readerClient = source.connector === 'jsonl' ? undefined : await clientFor(source.credentialId!);
    const writerClient = destination.connector === 'jsonl' ? undefined : await clientFor(destination.credentialId!);
    // Read once: every stream's requirement (Frontline's USER key) is checked against the same tiles.
    const tiles = {
      source: readerClient ? await this.deps.credentials.show(source.credentialId!) : undefined,
      destination: writerClient ? await this.deps.credentials.show(destination.credentialId!) : undefined,
    };
    const rejects = new RejectsFile(join(this.deps.home, 'syncs', `${source.id}__${destination.id}.rejects.jsonl`));

    const plans: StreamPlan[] = [];
    for (const name of wanted) plans.push(await this.plan(name, source, destination, tiles, readerClient, writerClient, rejects, (e) => onEvent(e)));
    const release = await lockDestination(this.deps.home, destination.id);
    try {
      return await this.runLocked(source, destination, plans, options, rejects, counters, onEvent, (stream) => (current = stream));
    } finally {
      await release();
    }
  }

  private runLocked(
    source: SourceConfig,
    destination: DestinationConfig,
    plans: StreamPlan[],
    options: RunSyncOptions,
    rejects: RejectsFile,
    counters: { rateLimited: number; retries: number },
    onEvent: (event: SyncEvent) => void,
    setCurrent: (stream: string) => void,
  ): Promise<SyncSummary> {
    return runSync(
      {
        key: `${source.id}:${destination.id}`,
        sourceId: source.id,
        destinationId: destination.id,
        streams: plans,
        fullRefresh: options.fullRefresh === true,
        ...(options.signal ? { signal: options.signal } : {}),
        state: this.deps.state,
        rejects,
        onEvent: (event) => {
          if ('stream' in event && event.stream) setCurrent(event.stream);
          onEvent(event);
        },
        onRejected: async (error) => {
          if (error.credentialId) await this.deps.credentials.markInvalid(error.credentialId);
        },
      },
      counters,
    );
  }

  private async plan(
    name: string,
    source: SourceConfig,
    destination: DestinationConfig,
    tiles: { source: CredentialTile | undefined; destination: CredentialTile | undefined },
    readerClient: ProviderClient | undefined,
    writerClient: ProviderClient | undefined,
    rejects: RejectsFile,
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
      reader = (since) => providerReader({ client: readerClient, provider: connector.manifest.title, name, stream, since, onEvent });
    } else {
      const path = source.path!;
      const file = (await stat(path)).isDirectory() ? join(path, `${name}.jsonl`) : path;
      reader = () => jsonlReader(file);
    }

    let writer: StreamPlan['writer'];
    if (writerClient) {
      const connector = this.deps.registry.get(destination.connector);
      const operationName = destination.operations![name]!;
      const operation = connector.operations.get(operationName);
      if (!operation) throw new InputError(`destination ${destination.id} names operation ${printable(operationName)}, which ${connector.id} no longer has`, { field: 'operations' });
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
          mapping: destination.mapping?.[name],
          params: destination.params ?? {},
          ledger: this.deps.ledger,
          ledgerScope: destination.id,
          reject: (r) => rejects.add(r),
        });
    } else {
      writer = (offset) => JsonlWriter.open(destination.path!, name, offset);
    }
    return { name, scopes, reader, writer, appendAcrossRuns: cursorField !== undefined, ...(cursorField ? { cursorField } : {}) };
  }
}
