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
// One path per suite, not a name pattern, so renaming a file cannot drop it from these runs
// silently; test/unit/store-projects.test.ts fails when a suite that picks its store through
// test-store.ts is missing here, or a path here names no file.
export const storeSuites = [
  'test/integration/concurrent-streams.test.ts',
  'test/integration/connect-library.test.ts',
  'test/integration/credential-audit.test.ts',
  'test/integration/credential-key-rotation.test.ts',
  'test/integration/credential-lifecycle.test.ts',
  'test/integration/credential-reverify.test.ts',
  'test/integration/credential-rotate.test.ts',
  'test/integration/credential-service-races.test.ts',
  'test/integration/credential-service.test.ts',
  'test/integration/credential-workspaces.test.ts',
  'test/integration/listing-pages.test.ts',
  'test/integration/saved-configs.test.ts',
  'test/integration/store-leases.test.ts',
  'test/integration/store-listing.test.ts',
  'test/integration/store-no-lost-updates.test.ts',
  'test/integration/sync-resume.test.ts',
  'test/integration/webhook-delivery.test.ts',
  'test/integration/webhook-events.test.ts',
  'test/integration/write-conflict.test.ts',
];
export const onServer = (store) => ({
  ...shared,
  displayName: store,
  testMatch: storeSuites.map((path) => `<rootDir>/${path}`),
  globals: { CREDPORT_TEST_STORE: store },
  globalSetup: '<rootDir>/test/helpers/servers-setup.ts',
});

/** @type {import('jest').Config} */
export default {
  projects: [sqlite, onServer('postgres'), onServer('redis')],
  testTimeout: 30000,
};
