import type { Command } from 'commander';
import { formatTile } from '../output.js';
import { type GlobalOptions, runAction } from '../run-action.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the whole credential path offline: a Front emulator on loopback, add, verify, seal, list, test')
    .option('--records <n>', 'records in each emulated list (default 1000)', (v) => Number.parseInt(v, 10))
    .option('--json', 'print one JSON event per step, then the result')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { records?: number }>();
      await runAction(options, async () => {
        const [{ runDemo }, { createProgress }] = await Promise.all([import('../../demo/run-demo.js'), import('../sync-progress.js')]);
        const env = options.home ? { ...process.env, CREDPORT_HOME: options.home } : process.env;
        const progress = options.json
          ? undefined
          : createProgress(['contacts', 'conversations', 'tags', 'accounts', 'inboxes', 'teammates']);
        const result = await runDemo({
          env,
          ...(options.records !== undefined && options.records >= 0 ? { records: options.records } : {}),
          onSyncEvent: (event) => (options.json ? process.stdout.write(`${JSON.stringify(event)}\n`) : progress!.onEvent(event)),
          onStep: (step) => {
            if (step.step === 'synced') progress?.stop(); // the bars are done; print below them
            if (options.json) process.stdout.write(`${JSON.stringify({ event: 'step', ...step })}\n`);
            else console.log(`- ${step.detail}`);
          },
        });
        progress?.stop();
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ event: 'demo_finished', ...result })}\n`);
          return;
        }
        console.log(`\nThe tile a host shows:\n${formatTile(result.tile)}`);
        console.log(
          `\nsummary: ${result.sync.records} records from ${Object.keys(result.sync.streams).length} streams in ` +
            `${result.sync.pages} pages, ${result.sync.rateLimited} rate-limited waits, ${result.sync.retries} retries`,
        );
        console.log(
          result.kept ? `store and files kept in ${result.home}` : 'temporary store and files removed; set CREDPORT_HOME to keep them',
        );
      });
    });
}
