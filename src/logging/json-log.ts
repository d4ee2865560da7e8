import { type DestinationStream, type Logger, pino } from 'pino';
import { CredportError } from '../errors.js';
import { REDACTED } from '../text/redact.js';
import type { LogRedaction } from './log-redaction.js';

export type LogFormat = 'text' | 'json';

/** A JSON logger and the redaction its every line goes through (more secrets can be added as they are learnt). */
export interface JsonLog {
  logger: Logger;
  redaction: LogRedaction;
}

// Headers that carry a caller's secret, wherever a request or an error puts them: pino blanks them
// before the line is written (the line redaction would catch their values too: two locks, one door).
const SECRET_HEADERS = ['authorization', '"proxy-authorization"', 'cookie', '"set-cookie"', '"x-api-key"'];
const HEADER_HOLDERS = ['headers', 'req.headers', 'res.headers', 'request.headers', 'err.options.headers', 'error.options.headers'];
export const REDACT_PATHS = HEADER_HOLDERS.flatMap((holder) =>
  SECRET_HEADERS.map((name) => (name.startsWith('"') ? `${holder}[${name}]` : `${holder}.${name}`)),
);

/**
 * pino, one JSON object a line on stdout (written at once, so nothing is lost when the process exits),
 * with ISO times, and serialisers that keep a request to its method and route pattern (never the raw
 * URL and its query) and an error to its type, code and message (got's errors carry the request's
 * headers as enumerable properties: serialised whole, they would print the bearer).
 */
export function createJsonLog(redaction: LogRedaction, destination?: DestinationStream): JsonLog {
  const logger = pino(
    {
      level: 'info',
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      serializers: {
        req: requestFields,
        err: errorFields,
        error: errorFields,
        res: (reply: { statusCode?: number }) => ({ statusCode: reply.statusCode }),
      },
      hooks: { streamWrite: (line) => redaction.line(line) },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
  return { logger, redaction };
}

function requestFields(request: { method?: string; routeOptions?: { url?: string } }): Record<string, unknown> {
  return { method: request.method, route: request.routeOptions?.url ?? null };
}

/** An error as a log shows it: what it is and what it says, never its enumerable baggage. */
export function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof CredportError) return { ...error.toJSON(), type: error.name };
  if (error instanceof Error) return { type: error.name, message: error.message, ...codeOf(error) };
  // Already plain details (a job's ErrorDetails): kept as they are, the line redaction still applies.
  if (error !== null && typeof error === 'object') return error as Record<string, unknown>;
  return { message: String(error) };
}

function codeOf(error: Error): { code?: string } {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? { code } : {};
}
