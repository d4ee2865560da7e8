// @ts-check
import base from './stryker.config.mjs';

/**
 * `npm run mutate:postgres` / `npm run mutate:redis`: the backend module of one server store,
 * mutated and tested against that real server (the SQLite run cannot reach it). Each test runner
 * gets databases of its own (test/helpers/test-servers.ts reads Stryker's worker id).
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
const store = process.env.CREDPORT_MUTATE_STORE;
export default {
  ...base,
  jest: { ...base.jest, configFile: 'jest.stryker.servers.config.js' },
  mutate: [`src/store/backends/${store}.ts`],
  htmlReporter: { fileName: `reports/mutation/${store}.html` },
  jsonReporter: { fileName: `reports/mutation/${store}.json` },
};
