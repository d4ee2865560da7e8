/** The options every project shares. */
export const shared = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
  },
};

/** Every suite, on the embedded SQLite store. */
export const sqlite = {
  ...shared,
  displayName: 'sqlite',
  testMatch: ['**/*.test.ts'],
  // Builds dist/ once, so tests that spawn the real CLI never run stale code.
  globalSetup: '<rootDir>/test/helpers/build-once.ts',
};

// The credential and sync suites again on each server store (test/helpers/test-store.ts reads
// the global): real PostgreSQL and Redis on loopback, started by the set-up when missing.
export const storeSuites = [
  '<rootDir>/test/integration/store-*.test.ts',
  '<rootDir>/test/integration/credential-*.test.ts',
  '<rootDir>/test/integration/saved-configs.test.ts',
  '<rootDir>/test/integration/sync-resume.test.ts',
  '<rootDir>/test/integration/write-conflict.test.ts',
  '<rootDir>/test/integration/concurrent-streams.test.ts',
];
export const onServer = (store) => ({
  ...shared,
  displayName: store,
  testMatch: storeSuites,
  globals: { CREDPORT_TEST_STORE: store },
  globalSetup: '<rootDir>/test/helpers/servers-setup.ts',
});

/** @type {import('jest').Config} */
export default {
  projects: [sqlite, onServer('postgres'), onServer('redis')],
  testTimeout: 30000,
};
