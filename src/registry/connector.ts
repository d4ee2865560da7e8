import type { ValidateFunction } from 'ajv';
import type { ConnectorManifest, OperationConfig } from '../generated/connector-manifest.js';
import type { JsonObject } from './inline-refs.js';

/** A loaded, validated connector: its manifest plus what the registry derived from its schema once. */
export interface Connector {
  readonly id: string;
  readonly manifest: ConnectorManifest;
  /** Folder the manifest was read from. */
  readonly dir: string;
  /** What a host renders in its "Add New Credential" overlay. */
  readonly form: CredentialForm;
  /** Fields marked writeOnly: never returned, hidden when typed, redacted from anything printed. */
  readonly secretFields: readonly string[];
  /** Every field but name and description: sealed together, read together from stdin (a JSON object when several). */
  readonly authFields: readonly string[];
  /** Compiled once, when the connector is first used. */
  readonly validate: ValidateFunction;
  /** The manifest's secretShape, compiled once with the connector (global: it is searched for in public fields). */
  readonly secretShape?: { readonly pattern: RegExp; readonly label: string };
  /** Write operations by name, each with its request body validator compiled once, on first use. */
  readonly operations: ReadonlyMap<string, { config: OperationConfig; validate: ValidateFunction }>;
}

export interface CredentialForm {
  /** Self-contained draft-07 JSON Schema (shared definitions inlined). */
  schema: JsonObject;
  /** Presentation hints in react-jsonschema-form's convention. */
  uiSchema: JsonObject;
}
