// @ts-check
/**
 * `npm run mutate`: mutation testing of the security-relevant code, to run by hand and before a
 * release (too slow for CI). Narrow it with `npm run mutate -- --mutate 'src/auth/**\/*.ts'`.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  // Jest's --findRelatedTests misses tests that reach a file only through other modules (the
  // integration tests): with perTest coverage each mutant runs only the tests that reach it anyway.
  jest: { configFile: 'jest.stryker.config.js', enableFindRelatedTests: false },
  // Jest runs our ESM tests only with this flag.
  testRunnerNodeArgs: ['--experimental-vm-modules'],
  // Each mutant runs only the tests that reach it: minutes instead of hours.
  coverageAnalysis: 'perTest',
  // TypeScript 7 has no JavaScript compiler API, which Stryker's tsconfig rewriting (and its
  // typescript-checker) need: pointing at a file that does not exist skips the rewriting.
  tsconfigFile: 'tsconfig.stryker-absent.json',
  // Jest in ESM mode leaks memory across runs: a fresh runner every 50 runs.
  maxTestRunnerReuse: 50,
  // The PostgreSQL and Redis backends run only against their servers: `npm run mutate:postgres`, `mutate:redis`.
  mutate: ['src/http/**/*.ts', 'src/store/**/*.ts', '!src/store/backends/postgres.ts', '!src/store/backends/redis.ts', 'src/credentials/**/*.ts', 'src/keys/**/*.ts', 'src/configs/**/*.ts', 'src/auth/**/*.ts', 'src/sync/**/*.ts', 'src/connect/**/*.ts', 'src/catalog/**/*.ts'],
  // The built SDK and web app stay: tests read them as served (dist/sdk/connect.js, dist/web/connect.html).
  ignorePatterns: ['dist/*', '!dist/sdk', '!dist/web', 'coverage', 'reports', '.jest-results.json', '*.sqlite', '*.sqlite-*'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 95, low: 90, break: null },
};
