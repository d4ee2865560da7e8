import type { ErrorObject } from 'ajv';

/** Problems named in a reject's reason; the rest are counted ("and 3 more"), so one bad row cannot make a huge line. */
export const MAX_PROBLEMS = 5;

/**
 * Names every problem of a request body that failed its schema (ajv runs with allErrors), unknown
 * and missing fields first, as they are what a caller fixes first. `field` is the first problem's
 * JSON pointer, as the rejects file has always said. Values are never quoted: a record may hold
 * anything.
 */
export function describeBodyErrors(errors: ErrorObject[]): { reason: string; field?: string } {
  const rank = (e: ErrorObject) => (e.keyword === 'additionalProperties' ? 0 : e.keyword === 'required' ? 1 : 2);
  // A stable sort keeps ajv's order (the schema's order) within each rank.
  const described = [...errors].sort((a, b) => rank(a) - rank(b)).map(describe);
  const problems = [...new Map(described.map((p) => [p.reason, p])).values()]; // one line per problem, however ajv reached it
  if (problems.length === 0) return { reason: 'the record is not a valid request body' };
  const shown = problems.slice(0, MAX_PROBLEMS).map((p) => p.reason);
  if (problems.length > MAX_PROBLEMS) shown.push(`and ${problems.length - MAX_PROBLEMS} more`);
  return { reason: shown.join('; '), field: problems[0]!.field };
}

function describe(error: ErrorObject): { reason: string; field: string } {
  if (error.keyword === 'required') {
    const field = `${error.instancePath}/${String(error.params.missingProperty)}`;
    return { reason: `${field} is required`, field };
  }
  if (error.keyword === 'additionalProperties') {
    const field = `${error.instancePath}/${String(error.params.additionalProperty)}`;
    return { reason: `${field} is not a field of the request body (unknown field)`, field };
  }
  const field = error.instancePath || '/';
  return { reason: `${field} ${error.message ?? 'is not valid'}`, field };
}
