import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Sequencer from '@jest/test-sequencer';

/**
 * The test order of `npm run mutate` (quickest first), which also leaves out the test files a
 * mutant's run cannot use. Stryker's jest runner picks a mutant's tests by name only (testNamePattern), so jest would
 * load every test file, and every module each one imports, just to learn that none of its tests
 * match: most of a mutant's time. The full run before the mutants (no pattern) records which test
 * names each file holds; each mutant's run then keeps only the files holding a test its pattern
 * matches (a file the record does not know is kept).
 */
export default class StrykerSequencer extends Sequencer {
  constructor(options) {
    super(options);
    this.pattern = options.globalConfig.testNamePattern ? new RegExp(options.globalConfig.testNamePattern, 'i') : undefined;
  }

  sort(tests) {
    if (!this.pattern || tests.length === 0) return super.sort(tests);
    const names = readNames(tests[0].context.config);
    const kept = names ? tests.filter((test) => !names[test.path] || names[test.path].some((name) => this.pattern.test(name))) : [...tests];
    // The quickest files first (jest's record of their last run): the run stops at its first failure.
    const took = (test) => this._getCache(test)[test.path]?.[1] ?? 0;
    return kept.sort((a, b) => took(a) - took(b));
  }

  cacheResults(tests, results) {
    super.cacheResults(tests, results);
    if (this.pattern || tests.length === 0) return;
    const names = {};
    for (const file of results.testResults) names[file.testFilePath] = file.testResults.map((test) => test.fullName);
    const path = namesPath(tests[0].context.config);
    writeFileSync(`${path}.${process.pid}`, JSON.stringify(names));
    renameSync(`${path}.${process.pid}`, path);
  }
}

function namesPath(config) {
  return join(config.cacheDirectory, `stryker-test-names-${createHash('sha256').update(config.rootDir).digest('hex').slice(0, 16)}.json`);
}

function readNames(config) {
  try {
    return JSON.parse(readFileSync(namesPath(config), 'utf8'));
  } catch {
    return undefined;
  }
}
