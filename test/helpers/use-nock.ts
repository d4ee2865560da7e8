import { afterAll, afterEach, beforeAll } from '@jest/globals';
import nock from 'nock';

/** nock across several jest files needs re-activating per file and restoring after it. */
export function useNock(): typeof nock {
  beforeAll(() => {
    if (!nock.isActive()) nock.activate();
    nock.disableNetConnect();
  });
  afterEach(() => nock.cleanAll());
  afterAll(() => {
    nock.cleanAll();
    nock.restore();
    nock.enableNetConnect();
  });
  return nock;
}
