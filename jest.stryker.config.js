import { fileURLToPath } from 'node:url';
import { sqlite } from './jest.config.js';

// An absolute path: Stryker loads the environment itself, where <rootDir> means nothing.
const failFast = fileURLToPath(new URL('./test/helpers/stryker-environment.cjs', import.meta.url));

/**
 * The jest configuration `npm run mutate` runs: the SQLite project, without the end-to-end tests
 * and without the dist/ build. The e2e tests spawn the CLI from dist/, a separate process that
 * Stryker's in-process mutant switching and per-test coverage do not reach, so they cost a build
 * and seconds per run and kill nothing the unit and integration tests do not.
 */
/** @type {import('jest').Config} */
export default {
  ...sqlite,
  testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/test/integration/**/*.test.ts'],
  globalSetup: undefined,
  testTimeout: 30000,
  // Each mutant's run loads only the test files that hold one of its tests, the quickest first,
  // and stops at the first test that fails.
  testSequencer: '<rootDir>/test/helpers/stryker-sequencer.js',
  testEnvironment: failFast,
};
