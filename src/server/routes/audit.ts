import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../../audit/audit-log.js';
import { InputError } from '../../errors.js';
import { INSTANT_PATTERN, INSTANT_WORDS, readInstant } from '../../text/read-time.js';
import { answer, problems, ref } from '../api-schemas.js';

interface AuditQuery {
  credential?: string;
  since?: string;
  limit?: string;
}

/** The audit trail, as `credport audit` prints it. */
export function auditRoutes(audit: AuditLog) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: AuditQuery }>('/audit', {
      schema: {
        tags: ['audit'],
        operationId: 'listAuditEvents',
        summary:
          'Credential events, oldest first: created, verified, refused, rotated, renamed, used by a sync, deleted, master key rotated',
        querystring: {
          type: 'object',
          properties: {
            credential: { type: 'string', maxLength: 64 },
            since: {
              type: 'string',
              pattern: INSTANT_PATTERN,
              'x-pattern-message': `must be ${INSTANT_WORDS}`,
              description: 'only events since then: a time ago (45s, 30m, 24h, 7d), a date (2026-11-01) or a date-time, as the CLI takes',
            },
            // A query string is text (the API does not coerce types): digits, read as a count.
            limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$', description: 'the latest this many events, 1 to 9999 (default 1000)' },
          },
          additionalProperties: false,
        },
        response: { 200: answer('The events, oldest first', { type: 'array', items: ref('audit-event') }), ...problems(400) },
      },
      handler: async (request) => {
        const { credential, since, limit } = request.query;
        const from = since === undefined ? undefined : readInstant(since);
        // The pattern passed: a day that is not on the calendar (2026-02-30) is left.
        if (since !== undefined && !from) throw new InputError(`since must be ${INSTANT_WORDS}`, { field: 'since' });
        return audit.list({
          ...(credential !== undefined ? { credentialId: credential } : {}),
          ...(from ? { since: from } : {}),
          ...(limit !== undefined ? { limit: Number(limit) } : {}),
        });
      },
    });
  };
}
