// The test environment of `npm run mutate`: node's, ending a mutant's run at its first failing
// test. Stryker needs one failure to call a mutant killed, and jest's own bail cannot be used from
// its API; every test after that one is skipped, in this file and the files after it.
const { TestEnvironment } = require('jest-environment-node');

const ACTIVE = '__STRYKER_ACTIVE_MUTANT__';
const KILLED = 'CREDPORT_STRYKER_KILLED_MUTANT';

class FailFastEnvironment extends TestEnvironment {
  handleTestEvent(event) {
    const mutant = process.env[ACTIVE];
    if (mutant === undefined) return;
    if (event.name === 'test_fn_failure' || event.name === 'hook_failure') process.env[KILLED] = mutant;
    else if (event.name === 'test_start' && process.env[KILLED] === mutant) event.test.mode = 'skip';
  }
}

module.exports = FailFastEnvironment;
