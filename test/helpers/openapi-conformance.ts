// Judges an answer of the API by the OpenAPI document the server serves: its operation (by method
// and path), the response declared for its status, the media type, the body (ajv 2020-12, the
// dialect of OpenAPI 3.1, against the document's own components) and every header it carries. Any
// status, media type or header the document does not declare is a failure, named with the request.
// It records which (operationId, status) pairs were seen, for a test to ask what was never driven.
import type { Ajv, ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsImport from 'ajv-formats';
import type { JsonBody } from './json-body.js';
import { checkEvents, type EventContract, servedContract } from './sync-event-contract.js';

const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;

/**
 * Headers any answer may carry without its response declaring them: what the server adds to every
 * answer, and what HTTP itself frames a message with. Anything else must be in the document.
 */
export const UNDECLARED_HEADERS_ALLOWED: Record<string, string> = {
  'content-security-policy': 'security header on every answer (security-headers.ts), not part of any one operation',
  'x-content-type-options': 'security header on every answer (nosniff)',
  'referrer-policy': 'security header on every answer (no-referrer)',
  'cross-origin-opener-policy': 'security header on every answer',
  'cross-origin-resource-policy': 'security header on every answer',
  'cross-origin-embedder-policy': 'security header on every answer',
  'x-frame-options': 'security header on every answer (the older form of frame-ancestors)',
  'strict-transport-security': 'security header on every answer (for when a TLS proxy fronts it)',
  'cache-control': 'no-store on every API answer: an answer is never cached',
  'x-request-id': "the request's id on every answer (request-logging.ts): the caller's own when fit to repeat, else a new UUID",
  'content-type': 'checked against the declared media types, not as a header',
  'content-length': 'HTTP framing',
  'transfer-encoding': 'HTTP framing (chunked: the event stream)',
  date: 'HTTP: every answer is dated',
  connection: 'HTTP connection management (keep-alive, close)',
  'keep-alive': 'HTTP connection management',
  vary: 'HTTP caching: what the answer varies by',
};

/** One answer as a test saw it: the request's method and URL (path and query), the status, headers and text. */
export interface SeenAnswer {
  method: string;
  url: string;
  status: number;
  headers: Record<string, string | string[] | undefined> | Headers;
  text: string;
}

interface Operation {
  id: string;
  method: string;
  matches: RegExp;
  pointer: string;
}

const BASE = 'https://credport.test/openapi.json';

export class OpenApiConformance {
  /** operationId -> the statuses seen. */
  readonly exercised = new Map<string, Set<number>>();
  private readonly operations: Operation[] = [];
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();
  /** The sync events as the document states them: names the event and the field when a stream's message breaks its schema. */
  private readonly events: EventContract;

  constructor(readonly document: JsonBody) {
    this.events = servedContract(document);
    this.ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }) as unknown as Ajv);
    // The whole document as one resource, so a response's `#/components/schemas/...` resolves in it.
    this.ajv.addSchema({ $id: BASE, components: document.components, paths: document.paths });
    for (const [path, item] of Object.entries<JsonBody>(document.paths))
      for (const [method, operation] of Object.entries<JsonBody>(item)) {
        if (!operation?.operationId) continue;
        const pattern = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
        this.operations.push({
          id: operation.operationId,
          method: method.toUpperCase(),
          matches: new RegExp(`^${pattern}$`),
          pointer: `/paths/${pointerSegment(path)}/${method}`,
        });
      }
  }

  /** Every operationId of the document. */
  operationIds(): string[] {
    return this.operations.map((operation) => operation.id);
  }

  /** The statuses the document declares for an operation. */
  declared(operationId: string): number[] {
    const operation = this.operations.find((o) => o.id === operationId)!;
    return Object.keys(this.at(`${operation.pointer}/responses`)).map(Number);
  }

  /** Throws, naming the request and what the document does not say, unless the answer is one the document declares. */
  check(answer: SeenAnswer): { operationId: string; status: number } {
    const path = new URL(answer.url, 'http://any').pathname;
    const operation = this.operations.find((o) => o.method === answer.method.toUpperCase() && o.matches.test(path));
    const seen = `${answer.method.toUpperCase()} ${path} answered ${answer.status}`;
    if (!operation) throw new Error(`${seen}: no operation of the document has this method and path`);
    const pointer = `${operation.pointer}/responses/${answer.status}`;
    const response = this.at(pointer);
    if (!response) throw new Error(`${seen}: ${operation.id} does not declare ${answer.status}`);
    (this.exercised.get(operation.id) ?? this.exercised.set(operation.id, new Set()).get(operation.id)!).add(answer.status);

    const headers = lowercased(answer.headers);
    const mediaType = headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    const content = response.content ?? {};
    if (mediaType === undefined) {
      if (answer.text !== '') throw new Error(`${seen}: a body without a Content-Type`);
    } else if (!(mediaType in content))
      throw new Error(
        `${seen}: ${operation.id} declares ${Object.keys(content).join(', ') || 'no body'} for ${answer.status}, not ${mediaType}`,
      );
    else this.checkBody(seen, `${pointer}/content/${pointerSegment(mediaType)}/schema`, mediaType, answer.text);

    const declaredHeaders = new Map(Object.entries<JsonBody>(response.headers ?? {}).map(([name, h]) => [name.toLowerCase(), h]));
    for (const [name, value] of Object.entries(headers)) {
      const header = declaredHeaders.get(name);
      if (header) this.checkHeader(seen, name, value, header.schema);
      else if (!(name in UNDECLARED_HEADERS_ALLOWED))
        throw new Error(`${seen}: header ${name} (${value}) is not declared on this response`);
    }
    return { operationId: operation.id, status: answer.status };
  }

  private checkBody(seen: string, schemaPointer: string, mediaType: string, text: string): void {
    const validate = this.validator(schemaPointer);
    // An event stream's schema is what each message's `data:` holds.
    const values = mediaType === 'text/event-stream' ? eventData(text) : [parseJson(seen, text)];
    for (const value of values) {
      if (validate(value)) continue;
      // A union's errors list every kind's; the event's own schema says what is wrong with it.
      if (mediaType === 'text/event-stream')
        try {
          checkEvents(this.events, [value]);
        } catch (error) {
          throw new Error(`${seen}: ${(error as Error).message}`);
        }
      throw new Error(`${seen}: the body breaks its schema: ${describe(validate.errors)}: ${text.slice(0, 500)}`);
    }
  }

  private checkHeader(seen: string, name: string, value: string, schema: JsonBody): void {
    const typed = schema?.type === 'integer' && /^-?\d+$/.test(value) ? Number(value) : value;
    const validate = this.ajv.compile(schema ?? {});
    if (!validate(typed)) throw new Error(`${seen}: header ${name}: ${JSON.stringify(value)} ${describe(validate.errors)}`);
  }

  private validator(pointer: string): ValidateFunction {
    let validate = this.validators.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${BASE}#${pointer}` });
      this.validators.set(pointer, validate);
    }
    return validate;
  }

  /** The document's value at a JSON pointer, or undefined. */
  private at(pointer: string): JsonBody {
    let value: JsonBody = this.document;
    for (const part of pointer.split('/').slice(1)) value = value?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    return value;
  }
}

/** A JSON pointer segment. */
function pointerSegment(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function lowercased(headers: SeenAnswer['headers']): Record<string, string> {
  const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  return Object.fromEntries(
    entries.filter(([, v]) => v !== undefined).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : String(v)]),
  );
}

function parseJson(seen: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${seen}: the body is not JSON: ${text.slice(0, 200)}`);
  }
}

/** The `data:` of each message of a Server-Sent Events text, as JSON (comments and keepalives skipped). */
function eventData(text: string): unknown[] {
  return text
    .split(/\r?\n\r?\n/)
    .map((message) =>
      message
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n'),
    )
    .filter((data) => data !== '')
    .map((data) => JSON.parse(data));
}

function describe(errors: ValidateFunction['errors']): string {
  return (errors ?? [])
    .map((e) => `${e.instancePath || '/'} ${e.message}${e.keyword === 'additionalProperties' ? ` (${e.params.additionalProperty})` : ''}`)
    .join('; ');
}
