import { fileURLToPath } from 'node:url';
import { onServer } from './jest.config.js';

// An absolute path: Stryker loads the environment itself, where <rootDir> means nothing.
const failFast = fileURLToPath(new URL('./test/helpers/stryker-environment.cjs', import.meta.url));

/**
 * The jest configuration `npm run mutate:postgres` and `mutate:redis` run: the store suites on one
 * real server (started by the set-up when missing), for the backend modules only that server runs.
 */
const store = process.env.CREDPORT_MUTATE_STORE;
if (store !== 'postgres' && store !== 'redis') throw new Error('CREDPORT_MUTATE_STORE must be postgres or redis');

/** @type {import('jest').Config} */
export default { ...onServer(store), testTimeout: 30000, testSequencer: '<rootDir>/test/helpers/stryker-sequencer.js', testEnvironment: failFast };
