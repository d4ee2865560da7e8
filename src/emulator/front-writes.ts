import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { BUILTIN_CONNECTORS_DIR } from '../package-info.js';
import { createAjv } from '../registry/create-ajv.js';

/** One write the emulator received: which operation, with what body, and what it answered. */
export interface ReceivedWrite {
  operation: 'contacts.create' | 'accounts.create' | 'tags.create' | 'messages.import';
  path: string;
  body: unknown;
  status: number;
}

export interface WriteAnswer {
  status: number;
  body: unknown;
}

const REQUESTS = join(BUILTIN_CONNECTORS_DIR, 'front', 'requests');

/**
 * Front's write routes as the emulator keeps them: bodies checked against Front's request schemas
 * (400 with `_error` naming the field), duplicates refused (409) or, for imports, ignored by
 * external_id (202), every created object kept so tests can check exactly-once.
 */
export class FrontWrites {
  readonly received: ReceivedWrite[] = [];
  readonly contacts = new Map<string, Record<string, unknown>>();
  readonly accounts = new Map<string, Record<string, unknown>>();
  readonly tags = new Map<string, Record<string, unknown>>();
  readonly messages = new Map<string, Record<string, unknown>>();
  private readonly validators: Record<ReceivedWrite['operation'], ValidateFunction>;
  private sequence = 0;

  constructor(private readonly inboxes: Set<string>) {
    const ajv = createAjv();
    const load = (file: string) => ajv.compile(JSON.parse(readFileSync(join(REQUESTS, file), 'utf8')));
    this.validators = {
      'contacts.create': load('create-contact.schema.json'),
      'accounts.create': load('create-account.schema.json'),
      'tags.create': load('create-tag.schema.json'),
      'messages.import': load('import-message.schema.json'),
    };
  }

  /** Routes a write; undefined when the path is not a write route. */
  write(method: string, path: string, body: unknown): WriteAnswer | undefined {
    if (method !== 'POST') return undefined;
    const inbox = /^\/inboxes\/([^/]+)\/imported_messages$/.exec(path)?.[1];
    const operation: ReceivedWrite['operation'] | undefined =
      path === '/contacts'
        ? 'contacts.create'
        : path === '/accounts'
          ? 'accounts.create'
          : path === '/tags'
            ? 'tags.create'
            : inbox
              ? 'messages.import'
              : undefined;
    if (!operation) return undefined;
    const answer = this.apply(operation, body, inbox);
    this.received.push({ operation, path, body, status: answer.status });
    return answer;
  }

  /** GET /contacts/alt:<source>:<handle> and /accounts/alt:external_id:<id>, Front's resource aliases. */
  lookup(path: string): WriteAnswer | undefined {
    const contact = /^\/contacts\/alt:([^:]+):(.+)$/.exec(path);
    if (contact) return this.found(this.contacts.get(`${contact[1]}:${decodeURIComponent(contact[2]!)}`));
    const account = /^\/accounts\/alt:external_id:(.+)$/.exec(path);
    if (account) return this.found(this.accounts.get(decodeURIComponent(account[1]!)));
    return undefined;
  }

  private found(object: Record<string, unknown> | undefined): WriteAnswer {
    return object ? { status: 200, body: object } : { status: 404, body: frontError(404, 'Not found', 'Resource not found') };
  }

  private apply(operation: ReceivedWrite['operation'], body: unknown, inbox: string | undefined): WriteAnswer {
    const validate = this.validators[operation];
    if (!validate(body)) {
      const e = validate.errors![0]!;
      const field =
        e.keyword === 'required'
          ? `${e.instancePath}/${String(e.params.missingProperty)}`
          : e.keyword === 'additionalProperties'
            ? `${e.instancePath}/${String(e.params.additionalProperty)}`
            : e.instancePath;
      return { status: 400, body: frontError(400, 'Bad request', `Body did not satisfy requirements: ${field} ${e.message ?? ''}`.trim()) };
    }
    // The schema check above has passed: these fields have the types its operation declares.
    const b = body as { handles: { source: string; handle: string }[]; external_id: string; name: string } & Record<string, unknown>;
    const id = (prefix: string) => `${prefix}_w${(++this.sequence).toString(36)}`;
    switch (operation) {
      case 'contacts.create': {
        const keys = (b.handles as { source: string; handle: string }[]).map((h) => `${h.source}:${h.handle}`);
        if (keys.some((k) => this.contacts.has(k)))
          return { status: 409, body: frontError(409, 'Conflict', 'A contact with this handle already exists') };
        const contact = { id: id('crd'), ...b };
        for (const k of keys) this.contacts.set(k, contact);
        return { status: 201, body: contact };
      }
      case 'accounts.create': {
        if (b.external_id && this.accounts.has(b.external_id))
          return { status: 409, body: frontError(409, 'Conflict', 'An account with this external_id already exists') };
        const account = { id: id('acc'), ...b };
        this.accounts.set(b.external_id ?? account.id, account);
        return { status: 201, body: account };
      }
      case 'tags.create': {
        if (this.tags.has(b.name)) return { status: 409, body: frontError(409, 'Conflict', 'A tag with this name already exists') };
        const tag = { id: id('tag'), ...b };
        this.tags.set(b.name, tag);
        return { status: 201, body: tag };
      }
      case 'messages.import': {
        if (!this.inboxes.has(inbox!)) return { status: 404, body: frontError(404, 'Not found', `No inbox ${inbox}`) };
        // "Front won't import two messages with the same external ID": accepted, and dropped.
        if (!this.messages.has(b.external_id)) this.messages.set(b.external_id, { id: id('msg'), inbox, ...b });
        return { status: 202, body: { status: 'accepted', message_uid: `uid_${b.external_id}` } };
      }
    }
  }
}

export function frontError(status: number, title: string, message: string) {
  return { _error: { status, title, message } };
}
