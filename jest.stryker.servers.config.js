import { onServer } from './jest.config.js';
import mutate from './jest.stryker.config.js';

/**
 * The jest configuration `npm run mutate:postgres` and `mutate:redis` run: the store suites on one
 * real server (started by the set-up when missing), for the backend modules only that server runs,
 * in the order and with the fail-fast environment of `npm run mutate`.
 */
const store = process.env.CREDPORT_MUTATE_STORE;
if (store !== 'postgres' && store !== 'redis') throw new Error('CREDPORT_MUTATE_STORE must be postgres or redis');

/** @type {import('jest').Config} */
export default { ...onServer(store), testTimeout: mutate.testTimeout, testSequencer: mutate.testSequencer, testEnvironment: mutate.testEnvironment };
