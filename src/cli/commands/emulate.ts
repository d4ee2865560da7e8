import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { FrontEmulator } from '../../emulator/front-emulator.js';
import { printJson } from '../output.js';
import { type GlobalOptions, runAction } from '../run-action.js';

export function registerEmulateCommand(program: Command): void {
  program
    .command('emulate')
    .description('run a loopback emulator of a provider, to try credport with no internet')
    .argument('<connector>', 'front')
    .option('--port <n>', 'port on 127.0.0.1 (default: a free one)', (v) => Number.parseInt(v, 10))
    .option('--token <token...>', 'tokens the emulator accepts (test tokens, not real secrets; default: one random token)')
    .option('--json', 'print the address and tokens as JSON')
    .action(async (connector: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { port?: number; token?: string[] }>();
      await runAction(options, async () => {
        if (connector !== 'front') throw new InputError(`no emulator for "${connector}" yet (emulators: front)`, { field: 'connector' });
        if (options.port !== undefined && !(Number.isInteger(options.port) && options.port >= 0 && options.port < 65536)) {
          throw new InputError('--port must be a port number', { field: 'port' });
        }
        const emulator = await new FrontEmulator({ ...(options.token ? { tokens: options.token } : {}), ...(options.port !== undefined ? { port: options.port } : {}) }).start();
        const tokens = [...emulator.tokens];
        if (options.json) printJson({ connector, url: emulator.url, tokens });
        else {
          console.log(`Front emulator on ${emulator.url} (Ctrl-C to stop)`);
          console.log(`accepted test token(s): ${tokens.join(' ')}`);
          console.log(`try: echo <token> | credport credentials add front --name Emulated --base-url ${emulator.url} --secret-stdin`);
        }
        await new Promise<void>((resolve) => {
          for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, resolve);
        });
        await emulator.stop();
      });
    });
}
