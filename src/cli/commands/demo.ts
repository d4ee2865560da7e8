import type { Command } from 'commander';
import { runDemo } from '../../demo/run-demo.js';
import { formatTile } from '../output.js';
import { type GlobalOptions, runAction } from '../run-action.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the whole credential path offline: a Front emulator on loopback, add, verify, seal, list, test')
    .option('--json', 'print one JSON event per step, then the result')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await runAction(options, async () => {
        const env = options.home ? { ...process.env, CREDPORT_HOME: options.home } : process.env;
        const result = await runDemo({
          env,
          onStep: (step) => {
            if (options.json) process.stdout.write(`${JSON.stringify({ event: 'step', ...step })}\n`);
            else console.log(`- ${step.detail}`);
          },
        });
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ event: 'finished', ...result })}\n`);
          return;
        }
        console.log(`\nThe tile a host shows:\n${formatTile(result.tile)}`);
        console.log(result.kept ? `\nstore kept in ${result.home}` : '\ntemporary store removed; set CREDPORT_HOME to keep it');
      });
    });
}
