import { AsyncLocalStorage } from 'node:async_hooks';
import { InputError } from '../errors.js';

/** viewer: sees tiles; editor: adds, tests, rotates, runs syncs; admin: deletes, manages tokens. */
export type Role = 'viewer' | 'editor' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'editor', 'admin'];

/** Whose objects a call may touch, and what it may do to them. `*`: every workspace (the schedule's own passes). */
export interface Access {
  workspace: string;
  role: Role;
}

export const DEFAULT_WORKSPACE = 'default';
export const EVERY_WORKSPACE = '*';
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A workspace name as given (`--workspace`, a token's), checked. */
export function checkWorkspace(name: string): string {
  if (!NAME.test(name)) throw new InputError(`"${name.slice(0, 70)}" is not a workspace name: lowercase letters, digits and -, at most 63`, { field: 'workspace' });
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

/** A request for another workspace's object: refused as if it did not exist (404, not 403). */
export class ForbiddenError extends InputError {
  constructor(message: string) {
    super(message, { code: 'forbidden' });
  }
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
    if (!outranks(access.role, needed)) throw new ForbiddenError(`${doing} needs the ${needed} role; this caller is a ${access.role} of workspace ${access.workspace}`);
    return access;
  }

  /** Whether the caller may see a record: its workspace (absent: an older store's, `default`) is the caller's. */
  sees(record: { workspace?: string } | undefined): boolean {
    if (!record) return false;
    const { workspace } = this.current();
    return workspace === EVERY_WORKSPACE || (record.workspace ?? DEFAULT_WORKSPACE) === workspace;
  }

  /** The workspace a new record goes in. */
  home(): string {
    const { workspace } = this.current();
    return workspace === EVERY_WORKSPACE ? DEFAULT_WORKSPACE : workspace;
  }
}
