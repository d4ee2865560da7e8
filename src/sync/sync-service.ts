import type { CredentialService } from '../credentials/credential-service.js';
import { InputError } from '../errors.js';
import type { DestinationConfig } from '../generated/destination.js';
import type { SourceConfig } from '../generated/source.js';
import type { HttpSettings } from '../http/provider-client.js';
import { gateFor } from '../http/rate-gate.js';
import type { ConnectorRegistry } from '../registry/connector-registry.js';
import type { Collection } from '../store/collection.js';
import { printable } from '../text/printable.js';
import type { SavedConfigs } from './saved-configs.js';
import type { SyncEvent, SyncSummary } from './sync-events.js';
import { runSync, type SyncState } from './sync-engine.js';

export interface RunSyncOptions {
  /** A subset of the source's streams; default all of them. */
  streams?: string[];
  /** Forget the checkpoint and start every stream over. */
  fullRefresh?: boolean;
  onEvent?: (event: SyncEvent) => void;
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
      http?: HttpSettings;
    },
  ) {}

  async run(sourceId: string, destinationId: string, options: RunSyncOptions = {}): Promise<SyncSummary> {
    const source: SourceConfig = await this.deps.configs.source(sourceId);
    const destination: DestinationConfig = await this.deps.configs.destination(destinationId);
    const connector = this.deps.registry.get(source.connector);
    const wanted = options.streams?.length ? options.streams : source.streams;
    const unknown = wanted.filter((s) => !source.streams.includes(s));
    if (unknown.length > 0) throw new InputError(`source ${source.id} does not read "${printable(unknown[0]!)}" (its streams: ${source.streams.join(', ')})`, { field: 'streams' });
    const onEvent = options.onEvent ?? (() => undefined);
    const counters = { rateLimited: 0, retries: 0 };
    let current = wanted[0]!;
    const client = await this.deps.credentials.client(source.credentialId, {
      http: this.deps.http ?? SYNC_HTTP,
      gate: gateFor(source.credentialId),
      onEvent: (event) => {
        if (event.type === 'rate_limited') {
          counters.rateLimited += 1;
          onEvent({ event: 'rate_limited', stream: current, waitMs: event.waitMs });
        } else {
          counters.retries += 1;
          onEvent({ event: 'retry', stream: current, waitMs: event.waitMs, reason: event.reason });
        }
      },
    });
    return runSync(
      {
        key: `${source.id}:${destination.id}`,
        sourceId: source.id,
        destinationId: destination.id,
        provider: connector.manifest.title,
        streams: wanted.map((name) => [name, connector.manifest.streams![name]!]),
        client,
        path: destination.path,
        fullRefresh: options.fullRefresh === true,
        state: this.deps.state,
        onEvent: (event) => {
          if ('stream' in event && event.stream) current = event.stream;
          onEvent(event);
        },
        onRejected: () => this.deps.credentials.markInvalid(source.credentialId),
      },
      counters,
    );
  }
}
