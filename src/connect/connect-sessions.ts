import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Access, type AccessScope, type ConnectGrant, ForbiddenError } from '../access/access.js';
import { type AuditEntry, type AuditLog, currentActor, withActor } from '../audit/audit-log.js';
import { InputError, NotFoundError, StoreError } from '../errors.js';
import type { ConnectExchange } from '../generated/connect-exchange.js';
import type { ConnectSession } from '../generated/connect-session.js';
import type { ConnectSessionCreateRequest } from '../generated/connect-session-create-request.js';
import type { ConnectSessionCreated } from '../generated/connect-session-created.js';
import type { CredentialTile } from '../generated/credential-tile.js';
import { isId, malformedId } from '../ids.js';
import type { ConnectorRegistry } from '../registry/connector-registry.js';
import { checkRequest } from '../registry/request-schemas.js';
import type { Collection } from '../store/collection.js';
import { printable } from '../text/printable.js';
import type { EventSubject, Mark, Marked, Outbox } from '../webhooks/outbox.js';
import { connectSessionLanded, subjectOf } from '../webhooks/webhook-events.js';
import { checkAllowedOrigins } from './allowed-origins.js';
import { publish } from '../telemetry/channels.js';

export type { ConnectExchange, ConnectSession, ConnectSessionCreated, ConnectSessionCreateRequest };

/**
 * createSession's input: the request body, with plain arrays (the schema's item counts make the
 * generated type a tuple union no caller's string[] fits; the schema still checks the counts).
 */
export type ConnectSessionInput = Omit<ConnectSessionCreateRequest, 'allowedOrigins' | 'connectors'> & {
  allowedOrigins: string[];
  connectors?: string[];
};

/** What the store keeps: the session's view, less its state (worked out when read), with hashes of its token and bearer. */
export interface ConnectSessionRecord extends Omit<ConnectSession, 'state'>, Marked {
  tokenHash: string;
  bearerHash?: string;
  bearerExpiresAt?: string;
  rev?: number;
}

/** A refusal of a session's token or bearer: 401 (not a token of ours) or 410 (used, expired, revoked). */
export class ConnectTokenError extends InputError {
  constructor(
    code: 'connect_token_invalid' | 'connect_token_used' | 'connect_session_expired' | 'connect_session_revoked',
    message: string,
  ) {
    super(message, { code, field: 'token' });
  }
}

export const DEFAULT_EXPIRES_IN_S = 1800;
/** A bearer lives this long at most (and never past its session): a page left open does not hold access for hours. */
export const BEARER_LIFETIME_MS = 15 * 60 * 1000;
const TOKEN = /^ccs_([a-z0-9]{16,32})\.([\w-]{43})$/;
const BEARER = /^ccb_([a-z0-9]{16,32})\.([\w-]{43})$/;

const hashOf = (secret: string) => createHash('sha256').update(secret).digest('hex');
/** Whether a presented secret's hash is the stored one, compared in constant time (both are 64 hex digits). */
const sameHash = (presented: string, stored: string) =>
  stored.length === 64 && timingSafeEqual(Buffer.from(hashOf(presented)), Buffer.from(stored));

/** The hook the credential service calls when a session's end user created or repaired a tile. */
export type ConnectOutcomeAction = 'created' | 'picked' | 'repaired';

/** What the sessions read of the credentials, as the caller of the moment (withAccess) may see them. */
export interface SessionCredentials {
  /** A tile in the caller's workspace (reconnect's credential must exist there): throws NotFoundError otherwise. */
  show(id: string): Promise<{ id: string; connector: string }>;
  /** A tile the caller's listing shows (a connect session's bearer: its grant's): throws NotFoundError otherwise. */
  listed(id: string): Promise<CredentialTile>;
}

/**
 * Connect sessions: a host's back end mints one (an editor or admin of the workspace) for one of
 * its end users; the Connect page exchanges its token, once, for a short-lived bearer that does
 * only what the grant says (connect-grant.ts). The token and the bearer each carry the session's
 * id (one read finds it) and a secret of which only the SHA-256 is stored, compared in constant time.
 */
export class ConnectSessions {
  constructor(
    private readonly sessions: Collection<ConnectSessionRecord>,
    private readonly scope: AccessScope,
    private readonly registry: ConnectorRegistry,
    private readonly credentials: SessionCredentials,
    /** Where minting, revoking, opening and picking are recorded (never a token or a bearer). */
    private readonly audit?: AuditLog,
    /** Where `connect.session.completed` is written with the session's outcome; none: no event. */
    private readonly outbox?: Outbox,
    private readonly now: () => Date = () => new Date(Date.now()),
  ) {}

  /** Mints a session: its token is in this answer only. Refused unless the caller may do all the session may (editor). */
  async createSession(input: ConnectSessionInput): Promise<ConnectSessionCreated> {
    checkRequest('connect-session-create-request', input as ConnectSessionCreateRequest);
    this.refuseSessionCaller('minting a connect session');
    // A session lists, creates, tests and rotates: its creator must be able to do each of those itself.
    this.scope.require('editor', 'minting a connect session');
    const allowedOrigins = checkAllowedOrigins(input.allowedOrigins);
    const mode = input.mode ?? 'pick';
    if (mode === 'reconnect' && input.credentialId === undefined)
      // A pointer: the member is missing, and a bare name would be looked for inside endUser.
      throw new InputError('a reconnect session needs credentialId: the credential whose secret the end user replaces', {
        field: '/credentialId',
      });
    if (mode !== 'reconnect' && input.credentialId !== undefined)
      throw new InputError(`credentialId is for a reconnect session only (this one's mode is ${mode})`, { field: 'credentialId' });
    (input.connectors ?? []).forEach((id, i) => {
      try {
        this.registry.get(id);
      } catch (error) {
        if (error instanceof InputError) throw new NotFoundError(`connectors/${i}: ${error.message}`);
        throw error;
      }
    });
    let connectors = input.connectors ?? this.registry.list().map((c) => c.id);
    if (input.credentialId !== undefined) {
      const credential = await this.credentials.show(input.credentialId);
      if (input.connectors === undefined) connectors = [credential.connector];
      else if (!connectors.includes(credential.connector))
        throw new InputError(`credential ${credential.id} is a ${credential.connector} credential, not one of this session's connectors`, {
          field: 'connectors',
        });
    }
    const id = newSessionId();
    const token = `ccs_${id.slice(4)}.${randomBytes(32).toString('base64url')}`;
    const created = this.now();
    const expiresAt = new Date(created.getTime() + (input.expiresIn ?? DEFAULT_EXPIRES_IN_S) * 1000).toISOString();
    const record: ConnectSessionRecord = {
      id,
      workspace: this.scope.home(),
      mode,
      endUser: { ...input.endUser },
      allowedOrigins,
      connectors,
      createdAt: created.toISOString(),
      expiresAt,
      tokenHash: hashOf(token),
    };
    if (input.credentialId !== undefined) record.credentialId = input.credentialId;
    if (input.showWorkspaceCredentials !== undefined) record.showWorkspaceCredentials = input.showWorkspaceCredentials;
    if (input.prefill !== undefined) record.prefill = { ...input.prefill };
    const actor = currentActor();
    if (actor) record.createdBy = actor;
    if (!(await this.sessions.insert(id, record)))
      throw new StoreError('write_conflict', `connect session ${id} exists already: try again`);
    await this.note({
      action: 'connect.session_created',
      outcome: 'ok',
      sessionId: id,
      workspace: record.workspace,
      // Ids only: the end user's name and email stay out of the trail.
      detail:
        `${mode} session for end user ${record.endUser.id}, connectors ${connectors.join(', ')}` +
        (record.credentialId !== undefined ? `, credential ${record.credentialId}` : ''),
    });
    publish('credport:connect-session', () => ({ outcome: 'created' }));
    return { id, token, expiresAt, url: `/connect/${id}` };
  }

  async getSession(id: string): Promise<ConnectSession> {
    return this.view(await this.load(id, 'reading a connect session'));
  }

  /** Revokes at once: the token can no longer be exchanged, and the bearer it gave stops working with the next request. */
  async revokeSession(id: string): Promise<ConnectSession> {
    await this.load(id, 'revoking a connect session');
    let revoked = false;
    const { record } = await this.sessions.change(
      id,
      (now) => {
        if (!now) throw new NotFoundError(`connect session ${id} was deleted while it was being revoked`);
        revoked = now.revokedAt === undefined;
        return revoked ? { ...now, revokedAt: this.now().toISOString() } : undefined;
      },
      {
        attempts: 20,
        conflict: () => new StoreError('write_conflict', `connect session ${id} kept changing; it is not revoked: try again`),
      },
    );
    // Once: revoking a revoked session changes nothing, and records nothing.
    if (revoked) publish('credport:connect-session', () => ({ outcome: 'revoked' }));
    if (revoked) await this.note({ action: 'connect.session_revoked', outcome: 'ok', sessionId: id, workspace: record.workspace });
    return this.view(record);
  }

  /**
   * Revokes every session an API token minted that is still live: called when that token is revoked,
   * so a leaked token's sessions (up to 4 hours each) end with it. The scan runs only then; the
   * store filters on `createdBy` where it can.
   */
  async revokeMintedBy(actor: string): Promise<number> {
    const at = this.now();
    let count = 0;
    for (const record of await this.sessions.where('createdBy', actor)) {
      if (record.revokedAt !== undefined || at.getTime() >= Date.parse(record.expiresAt)) continue;
      const { written } = await this.sessions.change(
        record.id,
        (now) => (now && now.revokedAt === undefined ? { ...now, revokedAt: at.toISOString() } : undefined),
        { attempts: 20, conflict: () => new StoreError('write_conflict', `connect session ${record.id} kept changing; revoke it again`) },
      );
      if (!written) continue;
      count += 1;
      await this.note({
        action: 'connect.session_revoked',
        outcome: 'ok',
        sessionId: record.id,
        workspace: record.workspace,
        detail: 'the API token that minted it was revoked',
      });
    }
    return count;
  }

  /**
   * The session's token for a bearer, once: the record is written over the revision read
   * (compare-and-swap), so of two exchanges of one token, however close, only one wins.
   */
  async exchange(token: string): Promise<ConnectExchange> {
    checkRequest('connect-exchange-request', { token });
    const [, tail, secret] = TOKEN.exec(token) ?? [];
    const invalid = () => new ConnectTokenError('connect_token_invalid', 'this is not a connect session token');
    if (tail === undefined || secret === undefined) throw invalid();
    const id = `csn_${tail}`;
    const bearer = `ccb_${tail}.${randomBytes(32).toString('base64url')}`;
    const at = this.now();
    // The session whose token this is, once its hash matched: a refusal of a real token (a replay) is recorded; a guess is not.
    let matched: ConnectSessionRecord | undefined;
    const { record } = await this.sessions
      .change(
        id,
        (now) => {
          if (!now || !sameHash(token, now.tokenHash)) throw invalid();
          matched = now;
          this.refuseEnded(now, at);
          if (now.openedAt !== undefined)
            throw new ConnectTokenError('connect_token_used', 'this connect session token was exchanged already: each token works once');
          const bearerExpires = Math.min(at.getTime() + BEARER_LIFETIME_MS, Date.parse(now.expiresAt));
          return {
            ...now,
            openedAt: at.toISOString(),
            bearerHash: hashOf(bearer),
            bearerExpiresAt: new Date(bearerExpires).toISOString(),
          };
        },
        // A lost race means another exchange of this token won: the second try re-reads and is refused as used.
        { attempts: 2, conflict: () => new ConnectTokenError('connect_token_used', 'this connect session token was exchanged already') },
      )
      .catch(async (error: unknown) => {
        if (error instanceof ConnectTokenError) publish('credport:connect-session', () => ({ outcome: 'refused' }));
        if (matched && error instanceof ConnectTokenError) await this.noteOpening(matched, 'refused', error.code);
        throw error;
      });
    publish('credport:connect-session', () => ({ outcome: 'exchanged' }));
    await this.noteOpening(record, 'ok');
    const session: ConnectExchange['session'] = {
      id: record.id,
      mode: record.mode,
      connectors: [...record.connectors],
      endUser: { id: record.endUser.id, ...(record.endUser.displayName !== undefined ? { displayName: record.endUser.displayName } : {}) },
    };
    if (record.credentialId !== undefined) session.credentialId = record.credentialId;
    if (record.prefill !== undefined) session.prefill = { ...record.prefill };
    return { bearer, expiresAt: record.bearerExpiresAt!, session };
  }

  /** The access a session's bearer grants now, or undefined (not one, or expired, or its session revoked or expired). */
  async authenticate(bearer: string): Promise<Access | undefined> {
    const [, tail] = BEARER.exec(bearer) ?? [];
    if (tail === undefined) return undefined;
    const record = await this.sessions.get(`csn_${tail}`);
    if (!record?.bearerHash || !sameHash(bearer, record.bearerHash)) return undefined;
    const at = this.now().getTime();
    if (record.revokedAt !== undefined || at >= Date.parse(record.expiresAt) || at >= Date.parse(record.bearerExpiresAt!)) return undefined;
    const connect: ConnectGrant = {
      sessionId: record.id,
      endUserId: record.endUser.id,
      mode: record.mode,
      connectors: [...record.connectors],
    };
    if (record.credentialId !== undefined) connect.credentialId = record.credentialId;
    if (record.showWorkspaceCredentials) connect.showWorkspaceCredentials = true;
    return { workspace: record.workspace, role: 'editor', confined: true, connect };
  }

  /**
   * Refuses (410, as the exchange would) unless session `id` is live: not revoked, not expired, its
   * bearer not expired. For a bearer's request that outlasted its own authentication (a provider's
   * check takes seconds): asked again just before what it did is saved.
   */
  async refuseIfEnded(id: string): Promise<void> {
    const record = await this.sessions.get(id);
    const at = this.now();
    if (!record) throw new ConnectTokenError('connect_session_revoked', 'this connect session is gone');
    this.refuseEnded(record, at);
    if (record.bearerExpiresAt !== undefined && at.getTime() >= Date.parse(record.bearerExpiresAt))
      throw new ConnectTokenError('connect_session_expired', `this connect session's bearer expired at ${record.bearerExpiresAt}`);
  }

  /**
   * The origins that may frame session `id`'s Connect page, for the page's own answer (its CSP and
   * meta): no caller's access is needed, since the page holds nothing until a framing page on one of
   * these origins hands it the token. Undefined for an unknown or malformed id. An expired or revoked
   * session still answers: its page then reports the exchange's refusal to the host.
   */
  async pageOrigins(id: string): Promise<string[] | undefined> {
    if (!isId('connect session', id)) return undefined;
    const record = await this.sessions.get(id);
    return record ? [...record.allowedOrigins] : undefined;
  }

  /** Records what the session's end user did (the first outcome stays: the host reads what the page reported first). */
  async recordOutcome(sessionId: string, action: ConnectOutcomeAction, credentialId: string): Promise<void> {
    // The outcome is set once, so the event is made once: by the write that sets it (marked in that write).
    const swap = (mark?: Mark) =>
      this.sessions.change(
        sessionId,
        (now) => {
          if (!now || now.outcome !== undefined) return undefined;
          const next = { ...now, outcome: { action, credentialId, at: this.now().toISOString() } };
          return mark ? mark(next, ['connect.session.completed']) : next;
        },
        { attempts: 20, conflict: () => new StoreError('write_conflict', `connect session ${sessionId} kept changing`) },
      );
    if (!this.outbox) {
      await swap();
      return;
    }
    await this.outbox.during('connect', sessionId, async (mark) => {
      const { record, written } = await swap(mark);
      return { result: undefined, landed: written ? connectSessionLanded(record) : undefined };
    });
  }

  /** How the outbox's recover() reads a session after a crash (open-credport registers it as `connect`). */
  eventSubject(): EventSubject {
    return subjectOf((id) => this.sessions.get(id), connectSessionLanded);
  }

  /**
   * A pick session's bearer reports the tile its end user picked: one its listing shows (else 404,
   * as for any credential outside its grant). The session's outcome becomes `picked` (the first
   * outcome stays), and the answer is the tile, for the page to hand to the host.
   */
  async select(credentialId: string): Promise<CredentialTile> {
    checkRequest('connect-selection-request', { credentialId });
    const grant = this.scope.current().connect;
    if (!grant) throw new ForbiddenError("reporting a picked tile is for a connect session's bearer");
    if (grant.mode !== 'pick')
      throw new ForbiddenError(`a ${grant.mode} session does not pick a tile: only a pick session reports a selection`);
    const tile = await this.credentials.listed(credentialId);
    await this.recordOutcome(grant.sessionId, 'picked', tile.id);
    await this.note({
      action: 'connect.credential_selected',
      outcome: 'ok',
      sessionId: grant.sessionId,
      credentialId: tile.id,
      connector: tile.connector,
      ...(tile.workspace !== undefined ? { workspace: tile.workspace } : {}),
    });
    return tile;
  }

  /** An exchange, as its session's end user did it (the page acts for them): opened, or refused with the code it was given. */
  private async noteOpening(record: ConnectSessionRecord, outcome: 'ok' | 'refused', code?: string): Promise<void> {
    await withActor(`connect:${record.endUser.id}`, () =>
      this.note({
        action: 'connect.session_opened',
        outcome,
        sessionId: record.id,
        workspace: record.workspace,
        ...(code !== undefined ? { detail: `token refused: ${code}` } : {}),
      }),
    );
  }

  private async note(entry: AuditEntry): Promise<void> {
    await this.audit?.note(entry);
  }

  private refuseEnded(record: ConnectSessionRecord, at: Date): void {
    if (record.revokedAt !== undefined) throw new ConnectTokenError('connect_session_revoked', 'this connect session was revoked');
    if (at.getTime() >= Date.parse(record.expiresAt))
      throw new ConnectTokenError('connect_session_expired', `this connect session expired at ${record.expiresAt}`);
  }

  /** A connect session's own bearer manages no sessions: it would mint itself a longer or wider one. */
  private refuseSessionCaller(doing: string): void {
    if (this.scope.current().connect) throw new ForbiddenError(`${doing} is not for a connect session's bearer`);
  }

  private async load(id: string, doing: string): Promise<ConnectSessionRecord> {
    this.refuseSessionCaller(doing);
    this.scope.require('editor', doing);
    if (!isId('connect session', id)) throw new InputError(`"${printable(String(id))}" ${malformedId('connect session')}`, { field: 'id' });
    const record = await this.sessions.get(id);
    if (!record || !this.scope.sees(record)) throw new NotFoundError(`no connect session ${printable(id)}`);
    return record;
  }

  /** The view its creator reads: everything but the hashes, the revision and the event marks, with its state as of now. */
  private view(record: ConnectSessionRecord): ConnectSession {
    const { tokenHash: _t, bearerHash: _b, bearerExpiresAt: _e, rev: _r, events: _m, ...shown } = record;
    return { ...shown, state: stateOf(record, this.now()) };
  }
}

/** Revoked and completed are kept for good; otherwise expired once past its time, else opened once exchanged. */
export function stateOf(record: ConnectSessionRecord, now: Date): ConnectSession['state'] {
  if (record.revokedAt !== undefined) return 'revoked';
  if (record.outcome !== undefined) return 'completed';
  if (now.getTime() >= Date.parse(record.expiresAt)) return 'expired';
  return record.openedAt !== undefined ? 'opened' : 'pending';
}

function newSessionId(): string {
  // 80 random bits in base32, as credential ids are made.
  let bits = 0n;
  for (const byte of randomBytes(10)) bits = (bits << 8n) | BigInt(byte);
  return `csn_${bits.toString(32).padStart(16, '0')}`;
}
