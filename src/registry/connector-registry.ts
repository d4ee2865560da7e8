import { type Dirent, readdirSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { InputError } from '../errors.js';
import type { Connector, CredentialForm } from './connector.js';
import { createAjv } from './create-ajv.js';
import { describeValidationErrors } from './describe-validation-errors.js';
import { inlineRefs, type JsonObject } from './inline-refs.js';
import { type LoadContext, loadConnector, ManifestError, readJson } from './load-connector.js';
import { BUILTIN_CONNECTORS_DIR, SCHEMAS_DIR } from '../package-info.js';
import { printable } from '../text/printable.js';

export interface RegistryOptions {
  /** Folders holding connector folders (each with a manifest.json), searched after the built-in ones. */
  extraConnectorDirs?: readonly string[];
}

/** What validating needs: ajv with the shared schemas, the manifest validator, the common fields. */
interface Validators extends LoadContext {
  validateCommon: ValidateFunction;
  commonProperties: Record<string, JsonObject>;
}

interface Entry {
  dir: string;
  /** Built (validated, compiled) when first used; host-supplied connectors at load. */
  connector: Connector | undefined;
}

/** Every connector the host can offer, each validated before it is used. */
export class ConnectorRegistry {
  private constructor(
    private readonly entries: ReadonlyMap<string, Entry>,
    private readonly validators: () => Validators,
  ) {}

  static async load(options: RegistryOptions = {}): Promise<ConnectorRegistry> {
    // Built once, when first needed: ajv's compiling is most of what a registry costs (~0.1 s).
    let built: Validators | undefined;
    const validators = () => (built ??= buildValidators());
    const entries = new Map<string, Entry>();
    const add = (id: string, entry: Entry) => {
      const clash = entries.get(id);
      if (clash) throw new ManifestError(join(entry.dir, 'manifest.json'), `connector id "${id}" is already defined in ${clash.dir}`);
      entries.set(id, entry);
    };
    for (const dir of await connectorFolders(BUILTIN_CONNECTORS_DIR)) {
      // Shipped with credport and checked by its tests: validated when first used, so a command
      // that needs no connector (credentials list) starts without ajv.
      const { id } = readJson(join(dir, 'manifest.json')) as { id?: unknown };
      if (typeof id === 'string') add(id, { dir, connector: undefined });
      else add(dir, { dir, connector: loadConnector(dir, validators()) }); // throws, naming what is wrong
    }
    for (const root of options.extraConnectorDirs ?? []) {
      for (const dir of await connectorFolders(root)) {
        // Host-supplied data credport has never seen: validated at once, so a broken folder is named at start.
        const connector = loadConnector(dir, validators());
        add(connector.id, { dir, connector });
      }
    }
    return new ConnectorRegistry(entries, validators);
  }

  list(): Connector[] {
    return [...this.entries.values()].map((entry) => this.build(entry)).sort((a, b) => a.id.localeCompare(b.id));
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  get(id: string): Connector {
    const entry = this.entries.get(id);
    if (!entry) {
      const known = [...this.entries.keys()].sort().join(', ');
      throw new InputError(`unknown connector "${printable(id)}" (known: ${known})`, { field: 'connector', code: 'unknown_connector' });
    }
    return this.build(entry);
  }

  private build(entry: Entry): Connector {
    entry.connector ??= loadConnector(entry.dir, this.validators());
    return entry.connector;
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
    const { validateCommon, commonProperties } = this.validators();
    if (!validateCommon(values)) throw describeValidationErrors(validateCommon.errors ?? [], commonProperties);
  }
}

function buildValidators(): Validators {
  const ajv = createAjv({ fillDefaults: true });
  const known = new Map<string, JsonObject>();
  for (const file of readdirSync(SCHEMAS_DIR)
    .filter((f) => f.endsWith('.schema.json'))
    .sort()) {
    const schema = readJson(join(SCHEMAS_DIR, file)) as JsonObject;
    ajv.addSchema(schema);
    known.set(schema.$id as string, schema);
  }
  const commonId = 'https://credport.dev/schemas/credential-fields.schema.json';
  return {
    ajv,
    requestAjv: createAjv(),
    validateManifest: ajv.getSchema('https://credport.dev/schemas/connector-manifest.schema.json')!,
    known,
    validateCommon: ajv.getSchema(commonId)!,
    commonProperties: inlineCommon(known.get(commonId)!, known),
  };
}

async function connectorFolders(root: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    throw new ManifestError(root, `connector folder cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const folders: string[] = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const manifest = join(root, entry.name, 'manifest.json');
    if (
      await stat(manifest).then(
        () => true,
        () => false,
      )
    )
      folders.push(join(root, entry.name));
  }
  return folders;
}

/** name and description whole (their text rule inlined), so a refusal quotes the rule's message. */
function inlineCommon(schema: JsonObject, known: Map<string, JsonObject>): Record<string, JsonObject> {
  const definitions = inlineRefs(schema, known).definitions as Record<string, JsonObject>;
  return { name: definitions.name!, description: definitions.description! };
}
