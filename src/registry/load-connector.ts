import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import type { ConnectorManifest, OperationConfig } from '../generated/connector-manifest.js';
import type { Connector } from './connector.js';
import { inlineRefs, type JsonObject } from './inline-refs.js';
import { escapeSegment } from '../text/json-pointer.js';

/** A connector folder that cannot be used; names the file and, where known, the JSON path. */
export class ManifestError extends Error {
  constructor(file: string, message: string) {
    super(`${displayPath(file)}: ${message}`);
    this.name = 'ManifestError';
  }
}

export interface LoadContext {
  ajv: Ajv;
  /** For request bodies: no defaults written into what is sent. */
  requestAjv: Ajv;
  validateManifest: ValidateFunction;
  /** Schemas known by $id (schemas/ plus every connector schema loaded so far). */
  known: Map<string, JsonObject>;
}

/**
 * Reads, validates and compiles one connector folder. Synchronous, so that the registry can do it
 * when a connector is first used (a few small local files; ajv's work is the cost).
 */
export function loadConnector(dir: string, context: LoadContext): Connector {
  const manifestFile = join(dir, 'manifest.json');
  const manifest = readJson(manifestFile) as ConnectorManifest;
  if (!context.validateManifest(manifest)) {
    throw new ManifestError(manifestFile, describeSchemaErrors(context.validateManifest.errors ?? []));
  }
  const schemaFile = resolve(dirname(manifestFile), manifest.credential.schema);
  const schema = readJson(schemaFile) as JsonObject;
  const secretFields = checkCredentialSchema(schemaFile, schema, manifest);

  let validate: ValidateFunction;
  let formSchema: JsonObject;
  try {
    const id = typeof schema.$id === 'string' ? schema.$id : undefined;
    validate = (id && context.ajv.getSchema(id)) || context.ajv.compile(schema);
    formSchema = inlineRefs(schema, context.known);
    if (id) context.known.set(id, schema);
  } catch (error) {
    throw new ManifestError(schemaFile, (error as Error).message);
  }
  const operations = new Map<string, { config: OperationConfig; validate: ValidateFunction }>();
  for (const [name, config] of Object.entries(manifest.operations ?? {})) {
    const file = resolve(dirname(manifestFile), config.requestSchema);
    const body = readJson(file) as JsonObject;
    // Compiled on first use, once: request bodies matter only to syncs that write, and compiling
    // them all made every command start 0.2 s slower (ImportMessage alone is large).
    let compiled: ValidateFunction | undefined;
    operations.set(name, {
      config,
      get validate() {
        try {
          compiled ??= context.requestAjv.compile(body);
        } catch (error) {
          throw new ManifestError(file, (error as Error).message);
        }
        return compiled;
      },
    });
  }
  return {
    id: manifest.id,
    manifest,
    dir,
    form: { schema: formSchema, uiSchema: manifest.credential.uiSchema },
    secretFields,
    authFields: Object.keys(formSchema.properties as object).filter((key) => key !== 'name' && key !== 'description'),
    validate,
    operations,
    // The manifest schema checked the pattern compiles in unicode mode (format: regex).
    ...(manifest.credential.secretShape
      ? { secretShape: { pattern: new RegExp(manifest.credential.secretShape.pattern, 'u'), label: manifest.credential.secretShape.label } }
      : {}),
  };
}

function checkCredentialSchema(file: string, schema: JsonObject, manifest: ConnectorManifest): string[] {
  const properties = schema.properties as Record<string, JsonObject> | undefined;
  if (schema.type !== 'object' || !properties)
    throw new ManifestError(file, 'a credential schema must be an object schema with properties');
  if (schema.additionalProperties !== false) {
    throw new ManifestError(file, '/additionalProperties must be false: unknown fields are refused, not stored');
  }
  if (!properties.name) throw new ManifestError(file, '/properties/name is missing: every credential has a Credential Name');
  const secretFields = Object.keys(properties).filter((key) => properties[key]?.writeOnly === true);
  if (secretFields.length === 0) throw new ManifestError(file, 'no property is marked writeOnly: true, so nothing would be sealed');
  if (!secretFields.includes(manifest.auth.secret)) {
    throw new ManifestError(file, `/properties/${manifest.auth.secret} (the manifest's auth.secret) must be writeOnly: true`);
  }
  return secretFields;
}

export function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ManifestError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ManifestError(file, `is not valid JSON (${(error as Error).message})`);
  }
}

function describeSchemaErrors(errors: ErrorObject[]): string {
  return errors
    .slice(0, 5)
    .map((e) => {
      // A key refused by propertyNames (a stream named "constructor") is named by its own pointer.
      const key = (e as ErrorObject & { propertyName?: string }).propertyName;
      const path = key === undefined ? e.instancePath || '/' : `${e.instancePath}/${escapeSegment(key)}`;
      if (e.keyword === 'additionalProperties') return `${path}: unknown property "${String(e.params.additionalProperty)}"`;
      if (e.keyword === 'required') return `${path}: missing property "${String(e.params.missingProperty)}"`;
      return `${path}: ${e.message ?? 'is not valid'}`;
    })
    .join('; ');
}

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}
