import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../../audit/audit-log.js';
import { InputError } from '../../errors.js';
import { INSTANT_PATTERN, INSTANT_WORDS, readInstant } from '../../text/read-time.js';
import type { PageOptions } from '../../page-cursor.js';
import { answer, problems, ref } from '../api-schemas.js';
import { NEXT_LINK, PAGE_QUERY, pageRequested, sendPage } from '../page-link.js';

interface AuditQuery extends PageOptions {
  credential?: string;
  since?: string;
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
            ...PAGE_QUERY,
          },
          additionalProperties: false,
        },
        response: { 200: answer('The events, oldest first', { type: 'array', items: ref('audit-event') }, NEXT_LINK), ...problems(400) },
      },
      handler: async (request, reply) => {
        const { credential, since } = request.query;
        const from = since === undefined ? undefined : readInstant(since);
        // The pattern passed: a day that is not on the calendar (2026-02-30) is left.
        if (since !== undefined && !from) throw new InputError(`since must be ${INSTANT_WORDS}`, { field: 'since' });
        const page = await audit.list({
          ...(credential !== undefined ? { credentialId: credential } : {}),
          ...(from ? { since: from } : {}),
          ...pageRequested(request.query),
        });
        return sendPage(request, reply, page);
      },
    });
  };
}
