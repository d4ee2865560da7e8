import type { ApiProblem } from '../generated/credport-api.js';

/**
 * An error answer of the API (application/problem+json) as a typed error: `status`, credport's
 * `code`, the `field` at fault as a JSON pointer into the request (`/values/apiKey`), `detail` in
 * words a person can act on. An answer that is not a problem (a proxy's HTML page) still becomes one,
 * with the code `http_<status>` and none of its body, which may echo what was sent.
 */
export class CredportProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  readonly detail: string;
  readonly problem: ApiProblem;

  constructor(problem: ApiProblem) {
    super(`${problem.status} ${problem.code}: ${problem.detail}`);
    this.name = 'CredportProblem';
    this.status = problem.status;
    this.code = problem.code;
    this.field = problem.field;
    this.detail = problem.detail;
    this.problem = problem;
  }

  /** The problem an answer that is not 2xx carries. */
  static async from(response: Response): Promise<CredportProblem> {
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    if (/^application\/(problem\+)?json\b/.test(type)) {
      const body = parsed(text);
      if (isProblem(body)) return new CredportProblem(body);
    }
    const title = response.statusText || `HTTP ${response.status}`;
    return new CredportProblem({
      type: `https://credport.dev/problems/http_${response.status}`,
      title,
      status: response.status,
      code: `http_${response.status}`,
      detail: `the server answered ${response.status} ${title}, not a problem document`,
    });
  }
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // said by the fallback problem, not by a SyntaxError
  }
}

function isProblem(body: unknown): body is ApiProblem {
  if (typeof body !== 'object' || body === null) return false;
  const { status, code, detail } = body as Record<string, unknown>;
  return typeof status === 'number' && typeof code === 'string' && typeof detail === 'string';
}
