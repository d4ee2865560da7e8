import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../../audit/audit-log.js';
import { InputError } from '../../errors.js';
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
            since: { type: 'string', format: 'date-time' },
            ...PAGE_QUERY,
          },
          additionalProperties: false,
        },
        response: { 200: answer('The events, oldest first', { type: 'array', items: ref('audit-event') }, NEXT_LINK), ...problems(400) },
      },
      handler: async (request, reply) => {
        const { credential, since } = request.query;
        const from = since === undefined ? undefined : new Date(since);
        if (from && Number.isNaN(from.getTime())) throw new InputError('since must be a date-time', { field: 'since' });
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
