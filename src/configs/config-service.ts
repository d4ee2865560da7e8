import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AccessScope } from '../access/access.js';
import { InputError, NotFoundError } from '../errors.js';
import type { DestinationConfig } from '../generated/destination.js';
import type { DestinationCreateRequest } from '../generated/destination-create-request.js';
import type { SourceConfig } from '../generated/source.js';
import type { SourceCreateRequest } from '../generated/source-create-request.js';
import type { ConnectorRegistry } from '../registry/connector-registry.js';
import { checkRequest } from '../registry/request-schemas.js';
import type { CredentialService } from '../credentials/credential-service.js';
import type { Collection } from '../store/collection.js';
import { oldestFirst } from '../listing-order.js';
import { type Page, type PageOptions, pageOf } from '../page-cursor.js';
import { checkPointer, formatPointer, isSafeKey } from '../text/json-pointer.js';
import { checkName, checkPrintable } from '../text/check-printable.js';
import { printable } from '../text/printable.js';
import { encodePathValue, templateParams } from '../sync/render-template.js';
import { checkRequirement } from '../sync/requirements.js';
import { FileScope } from '../sync/file-scope.js';

/** What a source is made from: the request body POST /sources takes, checked against its schema. */
export type CreateSourceInput = SourceCreateRequest;

/** What a destination is made from: the request body POST /destinations takes, checked against its schema. */
export type CreateDestinationInput = DestinationCreateRequest;

/** Sources and destinations: saved configurations that point at a credential tile. */
export class SavedConfigs {
  constructor(
    private readonly deps: {
      registry: ConnectorRegistry;
      credentials: CredentialService;
      sources: Collection<SourceConfig>;
      destinations: Collection<DestinationConfig>;
      home: string;
      /** Workspaces and roles: whose sources and destinations a call may touch. */
      access?: AccessScope;
    },
  ) {
    this.scope = deps.access ?? new AccessScope();
  }

  private readonly scope: AccessScope;

  async addSource(input: CreateSourceInput): Promise<SourceConfig> {
    checkRequest('source-create-request', input);
    this.scope.require('editor', 'adding a source');
    const name = checkName(input.name);
    if (input.connector === 'jsonl') return this.addJsonlSource(name, input);
    const connector = this.deps.registry.get(input.connector);
    if (input.credentialId === undefined)
      throw new InputError(`a ${connector.id} source needs a credential (--credential <id>)`, { field: 'credentialId' });
    if (input.path !== undefined)
      throw new InputError(`path is for jsonl sources; a ${connector.id} source reads its streams from the provider`, { field: 'path' });
    const tile = await this.deps.credentials.show(input.credentialId);
    if (tile.connector !== connector.id) {
      throw new InputError(
        `credential ${tile.id} ("${tile.name}") is a ${tile.connector} credential; a ${connector.id} source needs a ` +
          `${connector.id} credential`,
        { field: 'credentialId' },
      );
    }
    const streams = pickStreams(Object.keys(connector.manifest.streams ?? {}), input.streams, connector.id);
    for (const stream of streams)
      checkRequirement(connector.manifest.streams![stream]!.requires, tile, `${connector.manifest.title} stream ${stream}`);
    return this.saveSource({
      id: newId('src'),
      name,
      connector: connector.id,
      credentialId: tile.id,
      streams,
      ...concurrencyOf(input),
      createdAt: new Date().toISOString(),
    });
  }

  private async addJsonlSource(name: string, input: CreateSourceInput): Promise<SourceConfig> {
    if (input.credentialId !== undefined)
      throw new InputError('a jsonl source reads local files and takes no credential', { field: 'credentialId' });
    if (input.path === undefined) throw new InputError('a jsonl source needs --path <folder or file>', { field: 'path' });
    const files = this.files();
    const path = await files.check(files.resolve(input.path));
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new InputError(`no such file or folder: ${printable(files.show(path), 120)}`, { field: 'path' });
    const available = info.isDirectory()
      ? (await readdir(path))
          .filter((f) => f.endsWith('.jsonl'))
          .map((f) => f.slice(0, -'.jsonl'.length))
          .sort()
      : [basename(path).replace(/\.jsonl$/, '')];
    const streams = pickStreams(available, input.streams, `the folder ${printable(files.show(path), 120)}`);
    return this.saveSource({
      id: newId('src'),
      name,
      connector: 'jsonl',
      path,
      streams,
      ...concurrencyOf(input),
      createdAt: new Date().toISOString(),
    });
  }

  private async saveSource(source: Omit<SourceConfig, 'streams'> & { streams: string[] }): Promise<SourceConfig> {
    const saved = { ...source, workspace: this.scope.home() } as SourceConfig;
    await this.deps.sources.put(saved.id, saved);
    return saved;
  }

  async addDestination(input: CreateDestinationInput): Promise<DestinationConfig> {
    checkRequest('destination-create-request', input);
    this.scope.require('editor', 'adding a destination');
    const name = checkName(input.name);
    const workspace = this.scope.home();
    const id = newId('dst');
    const createdAt = new Date().toISOString();
    if (input.connector === 'jsonl') {
      if (input.operations || input.mapping || input.params)
        throw new InputError('a jsonl destination writes files: it takes no operations, mapping or parameters', { field: 'operations' });
      if (input.credentialId !== undefined) await this.deps.credentials.show(input.credentialId);
      const files = this.files();
      const path = await files.check(input.path === undefined ? join(files.base, 'destinations', id) : files.resolve(input.path));
      const destination: DestinationConfig = {
        id,
        workspace,
        name,
        connector: 'jsonl',
        path,
        createdAt,
        ...(input.credentialId ? { credentialId: input.credentialId } : {}),
      };
      await this.deps.destinations.put(id, destination);
      return destination;
    }
    const connector = this.deps.registry.get(input.connector);
    if (connector.operations.size === 0) throw new InputError(`connector ${connector.id} has no write operations`, { field: 'connector' });
    if (input.credentialId === undefined)
      throw new InputError(`a ${connector.id} destination needs a credential (--credential <id>)`, { field: 'credentialId' });
    const tile = await this.deps.credentials.show(input.credentialId);
    if (tile.connector !== connector.id) {
      throw new InputError(
        `credential ${tile.id} ("${tile.name}") is a ${tile.connector} credential; a ${connector.id} destination needs a ` +
          `${connector.id} credential`,
        { field: 'credentialId' },
      );
    }
    const operations = ownEntries(input.operations);
    if (Object.keys(operations).length === 0) {
      throw new InputError(
        `say which operation each stream goes to, e.g. --operation contacts=contacts.create (operations: ` +
          `${[...connector.operations.keys()].join(', ')})`,
        { field: 'operations' },
      );
    }
    const params = ownEntries(input.params);
    for (const [name, value] of Object.entries(params)) {
      try {
        encodePathValue(value);
      } catch (error) {
        throw new InputError(`parameter ${printable(name)}: ${(error as Error).message}`, { field: 'params' });
      }
    }
    for (const [stream, operation] of Object.entries(operations)) {
      const found = connector.operations.get(operation);
      if (!found)
        throw new InputError(
          `unknown operation "${printable(String(operation))}" for stream ${printable(stream)} (operations: ` +
            `${[...connector.operations.keys()].join(', ')})`,
          { field: 'operations' },
        );
      checkRequirement(found.config.requires, tile, `${connector.manifest.title} operation ${operation}`);
      const missing = templateParams(found.config.path).filter((p) => !Object.hasOwn(params, p) || !params[p]);
      if (missing.length > 0)
        throw new InputError(`operation ${operation} needs the parameter ${missing.join(', ')} (--param ${missing[0]}=<value>)`, {
          field: 'params',
        });
    }
    const mapping: Record<string, Record<string, string>> = {};
    for (const [stream, pointers] of Object.entries(input.mapping ?? {})) {
      // Own keys only: `in` would find "constructor" or "toString" on any object's prototype.
      if (!Object.hasOwn(operations, stream))
        throw new InputError(`the mapping names stream "${printable(stream)}", which has no operation`, { field: 'mapping' });
      mapping[stream] = ownEntries(pointers);
    }
    const destination: DestinationConfig = { id, workspace, name, connector: connector.id, credentialId: tile.id, operations, createdAt };
    if (input.mapping) destination.mapping = mapping;
    if (Object.keys(params).length > 0) destination.params = params;
    await this.deps.destinations.put(id, destination);
    return destination;
  }

  /** Where the caller's JSONL files may be: anywhere for the operator, its workspace folder for a tenant's token. */
  private files(): FileScope {
    return FileScope.of(this.deps.home, this.scope.current());
  }

  /**
   * A source or destination as this caller may see it: a tenant's JSONL path relative to its
   * workspace folder (the server's own paths are not a tenant's business); the operator's as saved.
   */
  shown<T extends { path?: string }>(config: T): T {
    const files = this.files();
    return config.path === undefined || !files.root ? config : { ...config, path: files.show(config.path) };
  }

  /** Oldest first; a page with `limit` and `cursor` (page-cursor.ts), else all. */
  listSources(page: PageOptions = {}): Promise<Page<SourceConfig>> {
    this.scope.require('viewer', 'listing sources');
    return this.scope
      .listing<SourceConfig>(
        () => this.deps.sources.all(),
        () => this.deps.sources.entries(),
      )
      .then((items) => pageOf(oldestFirst(items), page));
  }

  /** Oldest first; a page with `limit` and `cursor` (page-cursor.ts), else all. */
  listDestinations(page: PageOptions = {}): Promise<Page<DestinationConfig>> {
    this.scope.require('viewer', 'listing destinations');
    return this.scope
      .listing<DestinationConfig>(
        () => this.deps.destinations.all(),
        () => this.deps.destinations.entries(),
      )
      .then((items) => pageOf(oldestFirst(items), page));
  }

  async source(id: string): Promise<SourceConfig> {
    const found = /^src_[a-z0-9]{16,32}$/.test(id) ? await this.deps.sources.get(id) : undefined;
    if (!found || !this.scope.sees(found)) throw new NotFoundError(`no source ${printable(id)}`);
    return found;
  }

  async destination(id: string): Promise<DestinationConfig> {
    const found = /^dst_[a-z0-9]{16,32}$/.test(id) ? await this.deps.destinations.get(id) : undefined;
    if (!found || !this.scope.sees(found)) throw new NotFoundError(`no destination ${printable(id)}`);
    return found;
  }

  async deleteSource(id: string): Promise<{ id: string; deleted: true }> {
    this.scope.require('admin', 'deleting a source');
    await this.source(id);
    await this.deps.sources.delete(id);
    return { id, deleted: true };
  }

  async deleteDestination(id: string): Promise<{ id: string; deleted: true }> {
    this.scope.require('admin', 'deleting a destination');
    await this.destination(id);
    await this.deps.destinations.delete(id);
    return { id, deleted: true };
  }

  /** Names of the sources and destinations that use a credential (a delete is refused while any do). */
  async usersOf(credentialId: string): Promise<string[]> {
    const [sources, destinations] = await Promise.all([this.listSources(), this.listDestinations()]);
    return [
      ...sources.filter((s) => s.credentialId === credentialId).map((s) => `source "${s.name}" (${s.id})`),
      ...destinations.filter((d) => d.credentialId === credentialId).map((d) => `destination "${d.name}" (${d.id})`),
    ];
  }
}

function pickStreams(available: string[], wanted: string[] | undefined, where: string): SourceConfig['streams'] {
  if (available.length === 0) throw new InputError(`${where} has no streams to read`, { field: 'streams' });
  // The caller's names passed the request schema (printable, no prototype slot, each once); a
  // folder's file names did not, and they are stored and printed later too.
  const streams = wanted?.length ? wanted : available.map((stream) => checkPrintable(stream, 'streams'));
  checkStreamNames(streams, 'streams');
  const unknown = streams.filter((s) => !available.includes(s));
  if (unknown.length > 0)
    throw new InputError(`unknown stream "${printable(unknown[0]!)}" for ${where} (streams: ${available.join(', ')})`, {
      field: 'streams',
    });
  return [...new Set(streams)] as SourceConfig['streams'];
}

/**
 * Stream names key the sync state, the operations and the mapping: one naming a prototype slot
 * (a `__proto__.jsonl` file, a saved source of an older release) would read or set Object's members.
 */
export function checkStreamNames(streams: readonly string[], field: string): void {
  const bad = streams.find((stream) => !isSafeKey(stream));
  if (bad !== undefined) throw new InputError(`"${bad}" cannot be a stream name (${field})`, { field });
}

/**
 * One stream's mapping, body pointer -> record pointer: both sides well-formed pointers with no
 * `__proto__`, `constructor` or `prototype` segment (json-pointer.ts's guard, the same one that
 * refuses them again when a record is mapped). The field named is the entry's JSON pointer in the
 * request body, e.g. /mapping/tags/~1__proto__~1baseUrl.
 */
export function checkMapping(stream: string, pointers: Readonly<Record<string, unknown>>): void {
  const field = (target: string) => formatPointer(['mapping', stream, target]);
  if (!isSafeKey(stream)) throw new InputError(`"${stream}" cannot be a stream name (mapping)`, { field: 'mapping' });
  for (const [target, source] of Object.entries(pointers)) {
    if (typeof source !== 'string')
      throw new InputError(`mapping "${printable(stream)}" entry "${printable(target)}" must be a JSON pointer`, { field: field(target) });
    const problem = checkPointer(target) ?? checkPointer(source);
    if (problem !== undefined) {
      const side =
        checkPointer(target) !== undefined
          ? `body field "${printable(target)}"`
          : `record field "${printable(source)}" (for body field "${printable(target)}")`;
      throw new InputError(`mapping of stream ${printable(stream)}, ${side}: ${problem}`, { field: field(target) });
    }
  }
}

/**
 * A caller's map (stream -> operation, parameters, one stream's mapping), its keys and values
 * already checked by the request schema, copied with Object.fromEntries, which defines own keys:
 * a plain `copy[key] = value` with the key "__proto__" would set the copy's prototype instead.
 */
function ownEntries(value: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(value ?? {}));
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(10).toString('hex').slice(0, 20)}`;
}

function concurrencyOf(input: CreateSourceInput): { concurrency?: number } {
  return input.concurrency === undefined ? {} : { concurrency: input.concurrency };
}
