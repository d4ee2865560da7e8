import type { RJSFSchema, UiSchema } from '@rjsf/utils';
export type { ConnectorSummary } from '../../src/generated/connector-summary.js';
export type { CredentialTile } from '../../src/generated/credential-tile.js';
export type { SyncEvent } from '../../src/generated/sync-event.js';
export type { SyncJob } from '../../src/generated/sync-job.js';
export type { SyncSummary } from '../../src/generated/sync-summary.js';

/** GET /connectors/{id}/form: the "Add New Credential" form as the server serves it. */
export interface ConnectorForm {
  id: string;
  title: string;
  docs?: string;
  form: { schema: RJSFSchema; uiSchema: UiSchema };
  /**
   * Whether this caller may point a credential at another origin of the provider (the operator's
   * policy, for a Connect session's end user): the Base URL field shows only then. A server that
   * does not say (before Connect) lets every caller, as it always did.
   */
  baseUrlField?: boolean;
}

/** GET /demo (serve --demo only): an emulator per connector, with its test values. */
export interface DemoProvider {
  baseUrl: string;
  values: Record<string, string>;
  note: string;
}
export type DemoProviders = Record<string, DemoProvider>;

/** The fields of a form that hold a secret: `writeOnly` in the connector's schema. */
export function secretFields(schema: RJSFSchema): string[] {
  return Object.entries(schema.properties ?? {})
    .filter(([, property]) => typeof property === 'object' && property.writeOnly === true)
    .map(([name]) => name);
}

/** A JSON pointer from a problem (`/values/apiKey`) as the form field it names (`apiKey`), if it names one. */
export function formFieldOf(pointer: string | undefined, holder: string): string | undefined {
  const prefix = `/${holder}/`;
  if (!pointer?.startsWith(prefix)) return undefined;
  const rest = pointer.slice(prefix.length);
  return rest.includes('/') ? rest.slice(0, rest.indexOf('/')) : rest.replace(/~1/g, '/').replace(/~0/g, '~');
}
