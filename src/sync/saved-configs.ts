import { randomBytes } from 'node:crypto';
import { isAbsolute, join, resolve } from 'node:path';
import { InputError, NotFoundError } from '../errors.js';
import type { DestinationConfig } from '../generated/destination.js';
import type { SourceConfig } from '../generated/source.js';
import type { ConnectorRegistry } from '../registry/connector-registry.js';
import type { CredentialService } from '../credentials/credential-service.js';
import type { Collection } from '../store/collection.js';
import { printable } from '../text/printable.js';

export interface CreateSourceInput {
  name: string;
  connector: string;
  credentialId: string;
  /** Default: every stream the connector has. */
  streams?: string[];
}

export interface CreateDestinationInput {
  name: string;
  connector: 'jsonl';
  /** Folder for the JSONL files; default <home>/destinations/<id>. */
  path?: string;
  credentialId?: string;
}

/** Sources and destinations: saved configurations that point at a credential tile. */
export class SavedConfigs {
  constructor(
    private readonly deps: {
      registry: ConnectorRegistry;
      credentials: CredentialService;
      sources: Collection<SourceConfig>;
      destinations: Collection<DestinationConfig>;
      home: string;
    },
  ) {}

  async addSource(input: CreateSourceInput): Promise<SourceConfig> {
    const name = checkName(input.name);
    const connector = this.deps.registry.get(input.connector);
    const tile = await this.deps.credentials.show(input.credentialId);
    if (tile.connector !== connector.id) {
      throw new InputError(`credential ${tile.id} ("${tile.name}") is a ${tile.connector} credential; a ${connector.id} source needs a ${connector.id} credential`, { field: 'credentialId' });
    }
    const available = Object.keys(connector.manifest.streams ?? {});
    if (available.length === 0) throw new InputError(`connector ${connector.id} has no streams to read`, { field: 'connector' });
    const streams = input.streams?.length ? input.streams : available;
    const unknown = streams.filter((s) => !available.includes(s));
    if (unknown.length > 0) throw new InputError(`unknown stream "${printable(unknown[0]!)}" for ${connector.id} (streams: ${available.join(', ')})`, { field: 'streams' });
    const source: SourceConfig = { id: newId('src'), name, connector: connector.id, credentialId: tile.id, streams: [...new Set(streams)] as SourceConfig["streams"], createdAt: new Date().toISOString() };
    await this.deps.sources.put(source.id, source);
    return source;
  }

  async addDestination(input: CreateDestinationInput): Promise<DestinationConfig> {
    const name = checkName(input.name);
    if (input.connector !== 'jsonl') throw new InputError(`unknown destination connector "${printable(String(input.connector))}" (destinations: jsonl)`, { field: 'connector' });
    if (input.credentialId !== undefined) await this.deps.credentials.show(input.credentialId);
    const id = newId('dst');
    const path = input.path === undefined ? join(this.deps.home, 'destinations', id) : resolve(input.path);
    if (!isAbsolute(path)) throw new InputError('path must be a folder', { field: 'path' });
    const destination: DestinationConfig = { id, name, connector: 'jsonl', path, createdAt: new Date().toISOString() };
    if (input.credentialId !== undefined) destination.credentialId = input.credentialId;
    await this.deps.destinations.put(id, destination);
    return destination;
  }

  listSources(): Promise<SourceConfig[]> {
    return this.deps.sources.all().then(byCreation);
  }

  listDestinations(): Promise<DestinationConfig[]> {
    return this.deps.destinations.all().then(byCreation);
  }

  async source(id: string): Promise<SourceConfig> {
    const found = /^src_[a-z0-9]{16,32}$/.test(id) ? await this.deps.sources.get(id) : undefined;
    if (!found) throw new NotFoundError(`no source ${printable(id)}`);
    return found;
  }

  async destination(id: string): Promise<DestinationConfig> {
    const found = /^dst_[a-z0-9]{16,32}$/.test(id) ? await this.deps.destinations.get(id) : undefined;
    if (!found) throw new NotFoundError(`no destination ${printable(id)}`);
    return found;
  }

  async deleteSource(id: string): Promise<{ id: string; deleted: true }> {
    await this.source(id);
    await this.deps.sources.delete(id);
    return { id, deleted: true };
  }

  async deleteDestination(id: string): Promise<{ id: string; deleted: true }> {
    await this.destination(id);
    await this.deps.destinations.delete(id);
    return { id, deleted: true };
  }

  /** Names of the sources and destinations that use a credential (a delete is refused while any do). */
  async usersOf(credentialId: string): Promise<string[]> {
    const [sources, destinations] = await Promise.all([this.deps.sources.all(), this.deps.destinations.all()]);
    return [
      ...sources.filter((s) => s.credentialId === credentialId).map((s) => `source "${s.name}" (${s.id})`),
      ...destinations.filter((d) => d.credentialId === credentialId).map((d) => `destination "${d.name}" (${d.id})`),
    ];
  }
}

function checkName(name: unknown): string {
  const trimmed = typeof name === 'string' ? name.trim() : '';
  if (trimmed === '' || trimmed.length > 100 || /[\u0000-\u001F\u007F]/.test(trimmed)) {
    throw new InputError('name must be 1-100 characters without control characters', { field: 'name' });
  }
  return trimmed;
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(10).toString('hex').slice(0, 20)}`;
}

function byCreation<T extends { createdAt: string; id: string }>(items: T[]): T[] {
  return items.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
}
