import { ID_SHAPES, type IdKind, malformedId } from '../ids.js';

/**
 * A route's `{id}` path parameter: refused by its own shape before any service looks it up, so a
 * malformed id answers 400 naming `/path/id` in words of its own, and a well-formed unknown one 404.
 */
export function idParams(kind: IdKind) {
  return {
    type: 'object',
    properties: { id: { type: 'string', pattern: ID_SHAPES[kind].pattern, 'x-pattern-message': malformedId(kind) } },
    required: ['id'],
    additionalProperties: false,
  } as const;
}
