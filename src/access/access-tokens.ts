import { createHash, randomBytes } from 'node:crypto';
import { currentActor } from '../audit/audit-log.js';
import { NotFoundError } from '../errors.js';
import type { AccessToken } from '../generated/access-token.js';
import type { AccessTokenCreateRequest } from '../generated/access-token-create-request.js';
import { checkRequest } from '../registry/request-schemas.js';
import type { Collection } from '../store/collection.js';
import { oldestFirst } from '../listing-order.js';
import { checkName } from '../text/check-printable.js';
import { printable } from '../text/printable.js';
import type { Access, AccessScope } from './access.js';

export type { AccessToken };

/** What the store keeps of a token: its public fields, under the SHA-256 of the token itself. */
type TokenRecord = Omit<AccessToken, 'token'>;

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * API tokens scoped to one workspace with a role. Only a token's hash is stored (a stolen store
 * gives no working token), keyed by that hash so a request finds its token in one read. A caller
 * manages the tokens of its own workspace only, as an admin, and never makes one above its role.
 */
/** An API token as the audit trail (and a connect session's createdBy) names it. */
export const tokenActor = (id: string): string => `api:token:${id}`;

export class AccessTokens {
  constructor(
    private readonly tokens: Collection<TokenRecord>,
    private readonly scope: AccessScope,
    private readonly now: () => Date = () => new Date(),
    /** Told a token's id once it is revoked: the connect sessions it minted end with it. */
    private readonly onRevoked?: (id: string) => Promise<unknown>,
  ) {}

  /** Only an admin makes tokens (admin is the highest role), so no token is ever above its creator's role. */
  async create(input: AccessTokenCreateRequest): Promise<AccessToken> {
    checkRequest('access-token-create-request', input);
    this.scope.require('admin', 'creating an API token');
    // Trimmed: a name of spaces passed the schema's 1-100 characters and says nothing.
    const name = checkName(input.name);
    const token = `cpt_${randomBytes(32).toString('base64url')}`;
    const hash = hashOf(token);
    const record: TokenRecord = {
      id: `tok_${hash.slice(0, 16)}`,
      name,
      workspace: this.scope.home(),
      role: input.role,
      createdAt: this.now().toISOString(),
    };
    const actor = currentActor();
    if (actor) record.createdBy = actor;
    await this.tokens.put(hash, record);
    return { ...record, token };
  }

  /** The access a presented token grants, or undefined. */
  async find(token: string): Promise<(Access & { id: string }) | undefined> {
    if (!/^cpt_[\w-]{43}$/.test(token)) return undefined;
    const record = await this.tokens.get(hashOf(token));
    return record ? { id: record.id, workspace: record.workspace, role: record.role } : undefined;
  }

  async list(): Promise<AccessToken[]> {
    this.scope.require('admin', 'listing API tokens');
    const all = await this.tokens.all();
    return oldestFirst(all.filter((t) => this.scope.sees(t)));
  }

  async revoke(id: string): Promise<{ id: string; deleted: true }> {
    this.scope.require('admin', 'revoking an API token');
    const entries = await this.tokens.entries();
    const found = entries.find(([, t]) => !(t instanceof Error) && t.id === id && this.scope.sees(t));
    if (!found) throw new NotFoundError(`no API token ${printable(id)}`);
    await this.tokens.delete(found[0]);
    await this.onRevoked?.(id);
    return { id, deleted: true };
  }
}
