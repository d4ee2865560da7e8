import { describe, expect, it } from '@jest/globals';
import { CredportProblem } from '../../src/client/credport-problem.js';

describe('CredportProblem.from', () => {
  it('reads a problem document: status, code, field and detail', async () => {
    const body = {
      type: 'https://credport.dev/problems/invalid_input',
      title: 'Bad input',
      status: 400,
      code: 'invalid_input',
      detail: 'name is required',
      field: '/values/name',
    };
    const problem = await CredportProblem.from(
      new Response(JSON.stringify(body), { status: 400, headers: { 'content-type': 'application/problem+json' } }),
    );
    expect(problem).toMatchObject({
      name: 'CredportProblem',
      status: 400,
      code: 'invalid_input',
      field: '/values/name',
      detail: 'name is required',
    });
    expect(problem.problem).toEqual(body);
  });

  it('turns an answer that is no problem (a proxy page, broken JSON) into one, without its body', async () => {
    for (const [text, type] of [
      ['<html>apiKey=secret-value</html>', 'text/html'],
      ['{"status": 502, apiKey=secret-value', 'application/json'],
    ]) {
      const problem = await CredportProblem.from(
        new Response(text, { status: 502, statusText: 'Bad Gateway', headers: { 'content-type': type! } }),
      );
      expect(problem).toMatchObject({ status: 502, code: 'http_502', field: undefined });
      expect(problem.message).toBe('502 http_502: the server answered 502 Bad Gateway, not a problem document');
    }
  });
});
