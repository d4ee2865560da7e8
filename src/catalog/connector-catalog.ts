import type { AccessScope } from '../access/access.js';
import { NotFoundError } from '../errors.js';
import type { ConnectorForm } from '../generated/connector-form.js';
import type { ConnectorSummary } from '../generated/connector-summary.js';
import { type OutboundPolicy, reachOf } from '../http/outbound-policy.js';
import type { Connector } from '../registry/connector.js';
import type { ConnectorRegistry } from '../registry/connector-registry.js';
import { printable } from '../text/printable.js';

export type { ConnectorForm, ConnectorSummary };

/**
 * The connectors a caller may offer, and the form of each, as the caller sees them: a connect
 * session's bearer sees its session's connectors only (any other is not there, as an unknown one is
 * not), and a form says whether this caller may point a credential at another origin. Here, not in
 * a route, so the library under withAccess answers exactly what the API answers.
 */
export class ConnectorCatalog {
  constructor(
    private readonly registry: ConnectorRegistry,
    private readonly scope: AccessScope,
    private readonly outbound: OutboundPolicy,
  ) {}

  list(): ConnectorSummary[] {
    const access = this.scope.current();
    const offered = this.registry.list().filter((connector) => this.offers(connector.id));
    // The operator's allowed origins may name its own networks: an end user is told none of them.
    return offered.map((connector) => summary(connector, access.connect ? [] : this.outbound.allowedFor(connector.id)));
  }

  /** The "Add New Credential" form; a connector this caller is not offered is not found (404). */
  form(id: string): ConnectorForm {
    const connector = this.found(id);
    const { manifest } = connector;
    return {
      id: connector.id,
      title: manifest.title,
      ...(manifest.docs ? { docs: manifest.docs } : {}),
      // The outbound policy's own decision, for this caller's reach: the field shows only where a base URL could be saved.
      baseUrlField: this.outbound.allowsOtherOrigins(connector.id, reachOf(this.scope.current())),
      form: this.registry.form(connector.id),
    };
  }

  private offers(id: string): boolean {
    const grant = this.scope.current().connect;
    return grant === undefined || grant.connectors.includes(id);
  }

  /** The connector an id names, if this caller is offered it: otherwise 404, in the words an unknown one gets. */
  private found(id: string): Connector {
    if (this.offers(id) && this.registry.has(id)) return this.registry.get(id);
    const known = this.registry
      .list()
      .filter((connector) => this.offers(connector.id))
      .map((connector) => connector.id);
    throw new NotFoundError(`unknown connector "${printable(id)}" (known: ${known.join(', ')})`);
  }
}

function summary(connector: Connector, allowedOrigins: string[]): ConnectorSummary {
  const { manifest } = connector;
  const out: ConnectorSummary = {
    id: connector.id,
    title: manifest.title,
    baseUrl: manifest.http.baseUrl,
    streams: Object.entries(manifest.streams ?? {}).map(([name, stream]) => ({
      name,
      scopes: [...stream.scopes],
      ...(stream.requires
        ? { requires: stream.requires.help, requiresIdentity: { ...stream.requires.identity } as Record<string, string> }
        : {}),
    })),
    operations: Object.keys(manifest.operations ?? {}),
  };
  if (manifest.description) out.description = manifest.description;
  if (manifest.docs) out.docs = manifest.docs;
  if (manifest.http.regions) out.regions = { ...manifest.http.regions.urls };
  if (manifest.http.customDomains) out.customDomains = [...manifest.http.customDomains];
  if (allowedOrigins.length > 0) out.allowedOrigins = allowedOrigins;
  return out;
}
