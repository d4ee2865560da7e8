import { CredportError, ExitCode, InputError, ProviderRejectedError, ProviderUnavailableError } from '../errors.js';
import type { ApiProblem } from '../generated/api-problem.js';
import type { ErrorObject } from 'ajv';
import { describeRequestError } from '../registry/describe-request-error.js';
import { escapeSegment } from '../text/json-pointer.js';

const TITLES: Record<number, string> = {
  400: 'Bad input',
  401: 'Not signed in',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  410: 'Gone',
  413: 'Body too large',
  415: 'Only JSON bodies',
  422: 'The provider rejected the credential',
  429: 'Too many attempts',
  500: 'Internal error',
  502: 'The provider could not be reached',
  503: 'The store cannot be used',
  504: 'The provider did not answer in time',
};

/** The parts of the request a service's field may name: the body, the path's parameters, the query string's. */
export interface RequestParts {
  body?: unknown;
  params?: unknown;
  query?: unknown;
}

/**
 * The exit-code family as the HTTP status, the credport code and message as they are (they are
 * already safe to print: no secret, the provider's words redacted), and the field as a JSON pointer.
 */
export function problemFor(error: unknown, request: RequestParts = {}): ApiProblem {
  if (error instanceof CredportError) {
    const status = statusOf(error);
    const problem = problemOf(status, error.code, error.message, error.exitCode);
    // A provider's refusal names the secret's field when the request carried the secret (add, rotate).
    const field = error instanceof InputError || error instanceof ProviderRejectedError ? error.field : undefined;
    if (field) problem.field = pointerIn(field, request);
    if ((error instanceof ProviderRejectedError || error instanceof ProviderUnavailableError) && error.status)
      problem.providerStatus = error.status;
    if (error instanceof ProviderRejectedError) problem.providerMessage = error.forPeople;
    return problem;
  }
  const fastify = error as { statusCode?: number; code?: string; validation?: ErrorObject[]; validationContext?: string; message?: string };
  if (fastify?.validation) {
    // The same words a service's InputError says for the same input (describe-request-error.ts).
    const { field, detail } = describeRequestError(fastify.validation, fastify.validationContext);
    return { ...problemOf(400, 'invalid_input', detail, ExitCode.badInput), field };
  }
  const status =
    typeof fastify?.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500 ? fastify.statusCode : 500;
  // Never the library's own text: a JSON syntax error quotes the body it choked on, secret and all.
  const detail = status === 500 ? 'internal error' : (FASTIFY_SAYS[fastify.code ?? ''] ?? TITLES[status] ?? 'bad request');
  const code = status === 500 ? 'internal' : (FASTIFY_CODES[status] ?? 'invalid_input');
  return problemOf(status, code, detail, status === 500 ? ExitCode.internal : ExitCode.badInput);
}

/** One problem document: its type URI named by the code, its title by the status. */
function problemOf(status: number, code: string, detail: string, exitCode: number): ApiProblem {
  return {
    type: `https://credport.dev/problems/${code}`,
    title: TITLES[status] ?? (status < 500 ? 'Bad request' : 'Error'),
    status,
    detail,
    code,
    exitCode,
  };
}

/** The credport code of a status Fastify or a plugin answered with. */
const FASTIFY_CODES: Record<number, string> = { 413: 'body_too_large', 415: 'unsupported_media_type', 429: 'rate_limited' };

const FASTIFY_SAYS: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'the body is not valid JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'the body is empty; send a JSON object',
  FST_ERR_CTP_BODY_TOO_LARGE: 'the body is too large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'send the body as JSON (Content-Type: application/json)',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'the body does not match its Content-Length',
  FST_ERR_BAD_URL: 'the URL is not valid (a bad percent-encoding)',
  FST_ERR_MAX_PARAM_LENGTH: 'a path parameter is too long',
};

function statusOf(error: CredportError): number {
  if (error.code === 'not_found') return 404;
  // A connect session's token: not one of ours (401), or one that was good and no longer is (410).
  if (error.code === 'connect_token_invalid') return 401;
  if (['connect_token_used', 'connect_session_expired', 'connect_session_revoked'].includes(error.code)) return 410;
  if (error.code === 'forbidden' || error.code === 'outbound_refused') return 403;
  if (['in_use', 'sync_cancelled', 'destination_busy', 'write_conflict', 'not_failed', 'limit_reached'].includes(error.code)) return 409;
  switch (error.exitCode) {
    case ExitCode.badInput:
      return 400;
    case ExitCode.providerRejected:
      return 422;
    case ExitCode.providerUnavailable:
      return error.code === 'provider_timeout' ? 504 : 502;
    case ExitCode.store:
      return 503;
    default:
      return 500;
  }
}

/**
 * A field the services name that is not in the body but is a parameter of the path ("id") or the
 * query string ("since") is pointed at there: "/path/id", "/query/since".
 */
function pointerIn(field: string, { body, params, query }: RequestParts): string {
  if (!field.startsWith('/') && !(isObject(body) && Object.hasOwn(body, field))) {
    if (isObject(params) && Object.hasOwn(params, field)) return `/path/${escapeSegment(field)}`;
    if (isObject(query) && Object.hasOwn(query, field)) return `/query/${escapeSegment(field)}`;
  }
  return pointerOf(field, body);
}

/**
 * The services name a field ("baseUrl", "apiKey"); where it sits in this request's body makes the
 * pointer: a top-level member, or one inside an object member (the form's `values`, `secrets`).
 */
function pointerOf(field: string, body: unknown): string {
  if (field.startsWith('/')) return field;
  const segment = `/${escapeSegment(field)}`;
  if (!isObject(body) || Object.hasOwn(body, field)) return segment;
  const members = Object.entries(body).filter(([, value]) => isObject(value));
  // A missing field: the schema has already checked the top level, so it belongs in the one object member (`values`).
  const holder = members.find(([, value]) => Object.hasOwn(value as object, field)) ?? (members.length === 1 ? members[0] : undefined);
  return holder ? `/${escapeSegment(holder[0])}${segment}` : segment;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A 404 for what no route or record answers. */
export function notFoundProblem(detail: string): ApiProblem {
  return problemOf(404, 'not_found', detail, ExitCode.badInput);
}
