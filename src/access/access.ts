import { AsyncLocalStorage } from 'node:async_hooks';
import { InputError } from '../errors.js';

/** viewer: sees tiles; editor: adds, tests, rotates, runs syncs; admin: deletes, manages tokens. */
export type Role = 'viewer' | 'editor' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'editor', 'admin'];

/** Whose objects a call may touch, and what it may do to them. `*`: every workspace (the schedule's own passes). */
export interface Access {
  workspace: string;
  role: Role;
  /**
   * A tenant's token, not the operator: its JSONL sources and destinations stay inside its
   * workspace's folder (<home>/workspaces/<name>), so it cannot read or write another's files.
   */
  confined?: boolean;
  /** An end user's connect session: only what its grant allows, inside the workspace (connect-grant.ts). */
  connect?: ConnectGrant;
}

/**
 * What a connect session's bearer may touch: the credentials of its connectors that its end user
 * created (or the workspace's, with showWorkspaceCredentials), and reconnect's one credential.
 */
export interface ConnectGrant {
  sessionId: string;
  endUserId: string;
  mode: 'pick' | 'create' | 'reconnect';
  connectors: string[];
  credentialId?: string;
  showWorkspaceCredentials?: boolean;
}

export const DEFAULT_WORKSPACE = 'default';
export const EVERY_WORKSPACE = '*';
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A workspace name as given (`--workspace`, a token's), checked. */
export function checkWorkspace(name: string): string {
  if (!NAME.test(name))
    throw new InputError(`"${name.slice(0, 70)}" is not a workspace name: lowercase letters, digits and -, at most 63`, {
      field: 'workspace',
    });
  return name;
}

export function outranks(role: Role, other: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(other);
}

// The access of every call made inside withAccess: a server sets it per request, from the caller's token.
const accesses = new AsyncLocalStorage<Access>();

export function withAccess<T>(access: Access, run: () => T): T {
  return accesses.run(access, run);
}

/** The access withAccess set for this call, if any (a queued sync carries it to its worker). */
export function contextAccess(): Access | undefined {
  return accesses.getStore();
}

/** A call beyond the caller's role (403). Another workspace's object is not refused this way: it is not found (404). */
export class ForbiddenError extends InputError {
  constructor(message: string) {
    super(message, { code: 'forbidden' });
  }
}

/** "a viewer", "an editor", "an admin": the caller's role as a refusal names it. */
export function aRole(role: Role): string {
  return `${/^[aeiou]/.test(role) ? 'an' : 'a'} ${role}`;
}

/**
 * The access of the call under way: set by withAccess (a request, a job), else the process's own
 * (the CLI's --workspace as an admin: whoever runs the CLI holds the store and the master key).
 */
export class AccessScope {
  constructor(private readonly fallback: Access = { workspace: DEFAULT_WORKSPACE, role: 'admin' }) {}

  current(): Access {
    return accesses.getStore() ?? this.fallback;
  }

  /** Refused, naming the role needed, unless the caller's role is at least `needed`. */
  require(needed: Role, doing: string): Access {
    const access = this.current();
    if (!outranks(access.role, needed))
      throw new ForbiddenError(`${doing} needs the ${needed} role; this caller is ${aRole(access.role)} of workspace ${access.workspace}`);
    return access;
  }

  /** Whether the caller may see a record: its workspace (absent: an older store's, `default`) is the caller's. */
  sees(record: { workspace?: string } | undefined): boolean {
    if (!record) return false;
    const { workspace } = this.current();
    return workspace === EVERY_WORKSPACE || (record.workspace ?? DEFAULT_WORKSPACE) === workspace;
  }

  /**
   * Whether a damaged record (its workspace unknowable) is shown to this caller: to the default
   * workspace (where records from before workspaces live, and the operator works) and to every-workspace
   * passes; other workspaces skip it, so one tenant's damaged record neither fails nor names itself to another.
   */
  seesDamaged(): boolean {
    const { workspace } = this.current();
    return workspace === DEFAULT_WORKSPACE || workspace === EVERY_WORKSPACE;
  }

  /** The records a caller may see of a listing that met a damaged record: the listing again, damaged ones skipped. */
  async listing<T extends { workspace?: string }>(read: () => Promise<T[]>, readAll: () => Promise<[string, T | Error][]>): Promise<T[]> {
    try {
      return (await read()).filter((r) => this.sees(r));
    } catch (error) {
      if (this.seesDamaged() || (error as { code?: string }).code !== 'corrupt_record') throw error;
      return (await readAll()).flatMap(([, r]) => (r instanceof Error || !this.sees(r) ? [] : [r]));
    }
  }

  /** The workspace a new record goes in. */
  home(): string {
    const { workspace } = this.current();
    return workspace === EVERY_WORKSPACE ? DEFAULT_WORKSPACE : workspace;
  }
}
