import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { InputError } from '../errors.js';
import type { Connector, CredentialForm } from './connector.js';
import { createAjv } from './create-ajv.js';
import { describeValidationErrors } from './describe-validation-errors.js';
import type { JsonObject } from './inline-refs.js';
import { loadConnector, ManifestError } from './load-connector.js';
import { BUILTIN_CONNECTORS_DIR, SCHEMAS_DIR } from '../package-info.js';
import { printable } from '../text/printable.js';

export interface RegistryOptions {
  /** Folders holding connector folders (each with a manifest.json), searched after the built-in ones. */
  extraConnectorDirs?: readonly string[];
}

/** Every connector the host can offer, validated once at load. */
export class ConnectorRegistry {
  private constructor(
    private readonly connectors: ReadonlyMap<string, Connector>,
    private readonly validateCommon: ValidateFunction,
    private readonly commonProperties: Record<string, JsonObject>,
  ) {}

  static async load(options: RegistryOptions = {}): Promise<ConnectorRegistry> {
    const ajv = createAjv({ fillDefaults: true });
    const requestAjv = createAjv();
    const known = new Map<string, JsonObject>();
    for (const file of (await readdir(SCHEMAS_DIR)).filter((f) => f.endsWith('.schema.json')).sort()) {
      const schema = JSON.parse(await readFile(join(SCHEMAS_DIR, file), 'utf8')) as JsonObject;
      ajv.addSchema(schema);
      known.set(schema.$id as string, schema);
    }
    const validateManifest = ajv.getSchema('https://credport.dev/schemas/connector-manifest.schema.json')!;
    const commonId = 'https://credport.dev/schemas/credential-fields.schema.json';
    const validateCommon = ajv.getSchema(commonId)!;
    const commonProperties = inlineCommon(known.get(commonId)!);

    const connectors = new Map<string, Connector>();
    for (const root of [BUILTIN_CONNECTORS_DIR, ...(options.extraConnectorDirs ?? [])]) {
      for (const dir of await connectorFolders(root)) {
        const connector = await loadConnector(dir, { ajv, requestAjv, validateManifest, known });
        const clash = connectors.get(connector.id);
        if (clash) throw new ManifestError(join(dir, 'manifest.json'), `connector id "${connector.id}" is already defined in ${clash.dir}`);
        connectors.set(connector.id, connector);
      }
    }
    return new ConnectorRegistry(connectors, validateCommon, commonProperties);
  }

  list(): Connector[] {
    return [...this.connectors.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  has(id: string): boolean {
    return this.connectors.has(id);
  }

  get(id: string): Connector {
    const connector = this.connectors.get(id);
    if (!connector) {
      const known = [...this.connectors.keys()].sort().join(', ');
      throw new InputError(`unknown connector "${printable(id)}" (known: ${known})`, { field: 'connector', code: 'unknown_connector' });
    }
    return connector;
  }

  form(id: string): CredentialForm {
    return structuredClone(this.get(id).form);
  }

  /** Checks a whole credential form; throws an InputError naming the first bad field. */
  validateValues(connector: Connector, values: unknown): void {
    if (!connector.validate(values)) {
      throw describeValidationErrors(connector.validate.errors ?? [], connector.form.schema.properties as Record<string, JsonObject>);
    }
  }

  /** Checks name/description alone (an update that does not touch the secret). */
  validateCommonFields(values: unknown): void {
    if (!this.validateCommon(values)) throw describeValidationErrors(this.validateCommon.errors ?? [], this.commonProperties);
  }
}

async function connectorFolders(root: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    throw new ManifestError(root, `connector folder cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const folders: string[] = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const manifest = join(root, entry.name, 'manifest.json');
    if (await stat(manifest).then(() => true, () => false)) folders.push(join(root, entry.name));
  }
  return folders;
}

function inlineCommon(schema: JsonObject): Record<string, JsonObject> {
  const definitions = schema.definitions as Record<string, JsonObject>;
  return { name: definitions.name!, description: definitions.description! };
}

