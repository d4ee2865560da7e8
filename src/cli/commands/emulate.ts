import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { printJson } from '../output.js';
import { type GlobalOptions, runAction } from '../run-action.js';

export function registerEmulateCommand(program: Command): void {
  program
    .command('emulate')
    .description('run a loopback emulator of a provider, to try credport with no internet')
    .argument('<connector>', 'front, frontline or frontegg')
    .option('--port <n>', 'port on 127.0.0.1 (default: a free one)', (v) => Number.parseInt(v, 10))
    .option('--token <token...>', 'tokens the emulator accepts (test tokens, not real secrets; default: one random token)')
    .option('--records <n>', 'records in each paginated list (default 250)', (v) => Number.parseInt(v, 10))
    .option('--rate-limit <n>', 'requests a minute before it answers 429 (default: no limit)', (v) => Number.parseInt(v, 10))
    .option(
      '--rate-limit-per-token',
      'front: count --rate-limit per token (each token a company, as on Front) instead of one window for all',
    )
    .option('--latency-ms <n>', 'front: answer each list page this many milliseconds after it was asked for (default 0)', (v) =>
      Number.parseInt(v, 10),
    )
    .option('--fail-every <n>', 'answer every Nth request with 502 (fault injection)', (v) => Number.parseInt(v, 10))
    .option('--revoke-after <n>', 'revoke every token after N requests (401 from then on)', (v) => Number.parseInt(v, 10))
    .option('--next-origin <url>', 'point pagination links at another origin (to test that the token never follows them)')
    .option('--token-ttl <ms>', 'frontegg: how long an access token really lives', (v) => Number.parseInt(v, 10))
    .option('--json', 'print the address and tokens as JSON')
    .action(async (connector: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<
        GlobalOptions & {
          port?: number;
          token?: string[];
          records?: number;
          rateLimit?: number;
          rateLimitPerToken?: boolean;
          latencyMs?: number;
          failEvery?: number;
          revokeAfter?: number;
          nextOrigin?: string;
          tokenTtl?: number;
        }
      >();
      await runAction(options, async () => {
        if (connector === 'frontline') return runFrontline(options);
        if (connector === 'frontegg') return runFrontegg(options);
        if (connector !== 'front')
          throw new InputError(`no emulator for "${connector}" (emulators: front, frontline, frontegg)`, { field: 'connector' });
        if (options.port !== undefined && !(Number.isInteger(options.port) && options.port >= 0 && options.port < 65536)) {
          throw new InputError('--port must be a port number', { field: 'port' });
        }
        for (const [flag, value] of [
          ['--records', options.records],
          ['--rate-limit', options.rateLimit],
          ['--latency-ms', options.latencyMs],
          ['--fail-every', options.failEvery],
          ['--revoke-after', options.revokeAfter],
        ] as const) {
          if (value !== undefined && !(Number.isInteger(value) && value >= 0))
            throw new InputError(`${flag} must be a whole number`, { field: flag.slice(2) });
        }
        const { FrontEmulator } = await import('../../emulator/front-emulator.js');
        const emulator = await new FrontEmulator({
          ...(options.token ? { tokens: options.token } : {}),
          ...(options.port !== undefined ? { port: options.port } : {}),
          ...(options.records !== undefined ? { records: options.records } : {}),
          ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
          ...(options.rateLimitPerToken ? { rateLimitPerToken: true } : {}),
          ...(options.latencyMs ? { latencyMs: options.latencyMs } : {}),
          ...(options.failEvery ? { failEvery: options.failEvery } : {}),
          ...(options.revokeAfter !== undefined ? { revokeAfter: options.revokeAfter } : {}),
          ...(options.nextOrigin ? { nextOrigin: options.nextOrigin } : {}),
        }).start();
        const tokens = [...emulator.tokens];
        if (options.json) printJson({ connector, url: emulator.url, tokens });
        else {
          console.log(`Front emulator on ${emulator.url} (Ctrl-C to stop)`);
          console.log(`accepted test token(s): ${tokens.join(' ')}`);
          console.log(`try: echo <token> | credport credentials add front --name Emulated --base-url ${emulator.url} --secret-stdin`);
        }
        await waitForSignal();
        await emulator.stop();
      });
    });
}

async function runFrontline(options: GlobalOptions & { port?: number; records?: number; revokeAfter?: number }): Promise<void> {
  const { FrontlineEmulator } = await import('../../emulator/frontline-emulator.js');
  const emulator = await new FrontlineEmulator({
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.records !== undefined ? { records: options.records } : {}),
    ...(options.revokeAfter !== undefined ? { revokeAfter: options.revokeAfter } : {}),
  }).start();
  const keys = { GENERAL: emulator.keyOfType('GENERAL'), USER: emulator.keyOfType('USER') };
  if (options.json) printJson({ connector: 'frontline', url: emulator.url, keys });
  else {
    console.log(`Frontline emulator on ${emulator.url} (Ctrl-C to stop)`);
    console.log(`test keys: GENERAL ${keys.GENERAL}  USER ${keys.USER}`);
    console.log(`try: echo <key> | credport credentials add frontline --name Emulated --base-url ${emulator.url} --secret-stdin`);
  }
  await waitForSignal();
  await emulator.stop();
}

async function runFrontegg(options: GlobalOptions & { port?: number; records?: number; tokenTtl?: number }): Promise<void> {
  const { FronteggEmulator } = await import('../../emulator/frontegg-emulator.js');
  const emulator = await new FronteggEmulator({
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.records !== undefined ? { users: options.records } : {}),
    ...(options.tokenTtl !== undefined ? { tokenTtlMs: options.tokenTtl } : {}),
  }).start();
  const { clientId, secret } = emulator.credentials;
  if (options.json) printJson({ connector: 'frontegg', url: emulator.url, clientId, secret });
  else {
    console.log(`Frontegg emulator on ${emulator.url} (Ctrl-C to stop)`);
    console.log(`test API token: Client ID ${clientId}  Secret Key ${secret}`);
    console.log(
      `try: echo '{"clientId": "${clientId}", "secret": "<Secret Key>"}' | credport credentials add frontegg --name Emulated ` +
        `--base-url ${emulator.url} --secret-stdin`,
    );
  }
  await waitForSignal();
  await emulator.stop();
}

function waitForSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
}
