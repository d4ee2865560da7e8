import { constants } from 'node:fs';
import { type FileHandle, mkdir, open, readlink, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { type Access, ForbiddenError } from '../access/access.js';
import { InputError } from '../errors.js';

/**
 * Where a caller's JSONL files may be, and how their paths are named to it. The operator's files
 * may be anywhere and are named as they are. A tenant's token (confined access) keeps its files
 * inside <home>/workspaces/<name>, gives and sees their paths relative to that folder (never the
 * server's own paths), and every open re-checks, links resolved, that the file is still inside:
 * a link swapped in after a source was saved is refused at sync time, before anything is read.
 */
export class FileScope {
  private constructor(
    /** The folder for files by default: the home, or the tenant's workspace folder. */
    readonly base: string,
    /** The folder a tenant's files must stay in; undefined for the operator. */
    readonly root: string | undefined,
  ) {}

  static of(home: string, access: Access | undefined): FileScope {
    if (!access?.confined) return new FileScope(home, undefined);
    const root = join(home, 'workspaces', access.workspace);
    return new FileScope(root, root);
  }

  /** The operator's scope: any path, named as it is (a reader or writer made outside a sync service). */
  static readonly operator = new FileScope(process.cwd(), undefined);

  /** A path as the caller gave it: a tenant's is relative to its folder (an absolute one must lie inside it). */
  resolve(input: string): string {
    return this.root ? resolve(this.root, input) : resolve(input);
  }

  /** A path as this caller may see it: a tenant's relative to its folder, the operator's as it is. */
  show(path: string): string {
    if (!this.root) return path;
    const rel = relative(this.root, path);
    if (rel === '') return '.';
    return rel.startsWith('..') || isAbsolute(rel) ? '(outside the workspace folder)' : rel;
  }

  /**
   * Refuses a tenant's path outside its folder: by name first (so the answer says nothing of what
   * exists elsewhere), then the nearest part that exists, links resolved.
   */
  async check(path: string): Promise<string> {
    if (!this.root) return path;
    if (!inside(this.root, path))
      throw new ForbiddenError('a JSONL path of a workspace token must be inside its workspace folder (give it relative to that folder)');
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    let existing = path;
    while (!(await stat(existing).catch(() => undefined))) existing = dirname(existing);
    if (!inside(await realpath(this.root), await realpath(existing))) throw this.outside(path);
    return path;
  }

  /** Creates a folder for files (0700: records are the user's data), checked first for a tenant. */
  async ensureDir(dir: string): Promise<void> {
    await this.check(dir);
    await mkdir(dir, { recursive: true, mode: 0o700 });
  }

  /**
   * Opens a file without following a link at its last part. A tenant's is opened through its
   * folder's real path, which must be inside the workspace folder, and then (Linux) the file the
   * kernel actually opened is checked again, so a link swapped in meanwhile is refused too.
   */
  async open(file: string, flags: number, mode?: number): Promise<FileHandle> {
    if (!this.root)
      return open(file, flags | constants.O_NOFOLLOW, mode).catch((error: NodeJS.ErrnoException) =>
        Promise.reject(this.cannotOpen(file, flags, error)),
      );
    if (!inside(this.root, file)) throw this.outside(file);
    const realRoot = await realpath(this.root).catch((error: NodeJS.ErrnoException) => Promise.reject(this.cannotOpen(file, flags, error)));
    const dir = await realpath(dirname(file)).catch((error: NodeJS.ErrnoException) => Promise.reject(this.cannotOpen(file, flags, error)));
    if (!inside(realRoot, dir)) throw this.outside(file);
    const handle = await open(join(dir, basename(file)), flags | constants.O_NOFOLLOW, mode).catch((error: NodeJS.ErrnoException) =>
      Promise.reject(this.cannotOpen(file, flags, error)),
    );
    const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    if (opened !== undefined && !inside(realRoot, opened)) {
      await handle.close();
      throw this.outside(file);
    }
    return handle;
  }

  private outside(path: string): ForbiddenError {
    return new ForbiddenError(
      `${this.show(path)} leads outside the workspace folder (a symbolic link); a workspace token's JSONL files stay inside it`,
    );
  }

  private cannotOpen(file: string, flags: number, error: NodeJS.ErrnoException): InputError {
    const shown = this.show(file);
    if (error.code === 'ELOOP')
      return new InputError(`${shown} is a symbolic link; JSONL files are read and written only as regular files`, { field: 'path' });
    const writing = (flags & (constants.O_WRONLY | constants.O_RDWR)) !== 0;
    return new InputError(`${shown} cannot be ${writing ? 'written' : 'read'} (${error.code ?? 'error'})`, { field: 'path' });
  }
}

function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}
