import type { Command } from 'commander';
import { ExitCode, InputError } from '../../errors.js';
import type { CredentialTile } from '../../generated/credential-tile.js';
import { describeIdentity, formatTable, formatTile, printJson, say } from '../output.js';
import { ageMs, wholeNumber } from '../option-parsers.js';
import { readSecrets } from '../read-secret.js';
import { type GlobalOptions, withCredport } from '../run-action.js';

interface AddOptions extends GlobalOptions {
  name?: string;
  description?: string;
  baseUrl?: string;
  secretStdin?: boolean;
  secretEnv?: string;
  verify: boolean;
}

export function registerCredentialCommands(program: Command): void {
  const credentials = program.command('credentials').description('add, list, test, rotate and delete saved credentials');
  const secretHelp = 'the secret comes from --secret-stdin, --secret-env or a hidden prompt; never from the command line';

  credentials
    .command('add')
    .description(`verify a secret against the provider, then save it encrypted (${secretHelp})`)
    .argument('<connector>', 'connector id, e.g. front')
    .requiredOption('--name <text>', 'Credential Name, shown on the tile (1-100 characters)')
    .option('--description <text>', 'Credential Description (recommended, up to 1000 characters)')
    .option('--base-url <url>', 'another origin of the provider (https://, or http:// on loopback, e.g. an emulator)')
    .option('--secret-stdin', 'read the secret from standard input (one trailing newline is dropped)')
    .option('--secret-env <variable>', 'read the secret from this environment variable')
    .option('--no-verify', 'save without asking the provider; the tile says unverified')
    .option('--json', 'print the tile as JSON')
    .action(async (connectorId: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<AddOptions>();
      await withCredport(options, async ({ registry, credentials }) => {
        const connector = registry.get(connectorId);
        const secrets = await readSecrets(connector, options);
        const tile = await credentials.create({
          connector: connectorId,
          values: { name: options.name, ...(options.description !== undefined ? { description: options.description } : {}), ...secrets },
          ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}),
          verify: options.verify,
        });
        printTile(
          tile,
          options,
          tile.status === 'verified' ? `saved ${tile.id}, verified: ${describeIdentity(tile)}` : `saved ${tile.id} without verification`,
        );
      });
    });

  credentials
    .command('list')
    .description('list saved credentials as tiles (never with the secret)')
    .option('--connector <id>', 'only this connector')
    .option('--json', 'print JSON')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { connector?: string }>();
      await withCredport(options, async ({ credentials }) => {
        const tiles = await credentials.list(options.connector !== undefined ? { connector: options.connector } : {});
        if (options.json) return printJson(tiles);
        if (tiles.length === 0) return say('no credentials saved yet: add one with `credport credentials add <connector> --name <text>`');
        say(
          formatTable(
            ['ID', 'CONNECTOR', 'NAME', 'STATUS', 'IDENTITY', 'SECRET', 'UPDATED'],
            tiles.map((t) => [
              t.id,
              t.connector,
              t.name,
              t.status,
              describeIdentity(t),
              t.secretHint ? `...${t.secretHint}` : '',
              t.updatedAt,
            ]),
          ),
        );
      });
    });

  credentials
    .command('show')
    .description('show one tile')
    .argument('<id>', 'credential id')
    .option('--json', 'print JSON')
    .action(async (id: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await withCredport(options, async ({ credentials }) => printTile(await credentials.show(id), options));
    });

  credentials
    .command('test')
    .description('verify the saved secret against the provider again; a refusal marks the tile invalid')
    .argument('<id>', 'credential id')
    .option('--json', 'print JSON')
    .action(async (id: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await withCredport(options, async ({ credentials }) => {
        const tile = await credentials.test(id);
        printTile(tile, options, `verified: ${describeIdentity(tile)}`);
      });
    });

  credentials
    .command('rotate')
    .description(`replace the secret; the new one is verified first and the old one kept on any failure (${secretHelp})`)
    .argument('<id>', 'credential id')
    .option('--secret-stdin', 'read the new secret from standard input')
    .option('--secret-env <variable>', 'read the new secret from this environment variable')
    .option('--no-verify', 'replace without asking the provider; the tile says unverified')
    .option('--json', 'print JSON')
    .action(async (id: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<AddOptions>();
      await withCredport(options, async ({ registry, credentials }) => {
        const connector = registry.get((await credentials.show(id)).connector);
        const secrets = await readSecrets(connector, options);
        const tile = await credentials.rotate(id, { secrets, verify: options.verify });
        printTile(tile, options, `rotated ${tile.id}`);
      });
    });

  credentials
    .command('update')
    .description('change the name or description')
    .argument('<id>', 'credential id')
    .option('--name <text>', 'new Credential Name')
    .option('--description <text>', 'new Credential Description ("" removes it)')
    .option('--json', 'print JSON')
    .action(async (id: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { name?: string; description?: string }>();
      await withCredport(options, async ({ credentials }) => {
        if (options.name === undefined && options.description === undefined)
          throw new InputError('nothing to update: give --name or --description');
        const tile = await credentials.update(id, {
          ...(options.name !== undefined ? { name: options.name } : {}),
          ...(options.description !== undefined ? { description: options.description } : {}),
        });
        printTile(tile, options, `updated ${tile.id}`);
      });
    });

  registerVerifyCommand(credentials);

  credentials
    .command('delete')
    .description('delete a credential and its sealed secret (refused while a source or destination uses it)')
    .argument('<id>', 'credential id')
    .option('--force', 'delete even when sources or destinations use it')
    .option('--json', 'print JSON')
    .action(async (id: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { force?: boolean }>();
      await withCredport(options, async ({ credentials }) => {
        const result = await credentials.delete(id, { force: options.force === true });
        if (options.json) return printJson(result);
        say(`deleted ${result.id}`);
      });
    });
}

function registerVerifyCommand(credentials: Command): void {
  credentials
    .command('verify')
    .description('re-test every credential not verified within --stale: a refusal marks its tile invalid, an outage changes nothing')
    .requiredOption('--stale <duration>', 'not verified within this long (45s, 30m, 24h, 7d) or since a date (2026-11-01)', ageMs('stale'))
    .option('--connector <id>', 'only this connector')
    .option('--concurrency <n>', 'requests in flight at once (default 4)', wholeNumber('concurrency'))
    .option('--json', 'print the summary and each result as JSON')
    .addHelpText(
      'after',
      `
Never verified and stale credentials are tested; invalid ones wait for a rotation. All requests to
one provider pass one rate gate (its x-ratelimit headers and 429s pace the pass; with CREDPORT_REDIS
every process's passes share it). \`credport serve\` and \`credport worker\` do this on a schedule
with --reverify-every.
Exit codes: 0 all verified (or none due); 3 the provider refused at least one (its tile is now
invalid, with the provider's words); 4 at least one could not be checked (nothing changed).`,
    )
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { stale: number; connector?: string; concurrency?: number }>();
      await withCredport(options, async (credport) => {
        const bar = await verifyBar();
        const summary = await credport.reverify({
          olderThanMs: options.stale,
          ...(options.connector !== undefined ? { connector: options.connector } : {}),
          ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
          onResult: (_result, done, total) => bar.update(done, total),
        });
        bar.stop();
        if (options.json) printJson(summary);
        else {
          say(
            `re-verified ${summary.checked} credential${summary.checked === 1 ? '' : 's'} in ${(summary.ms / 1000).toFixed(1)} s: ` +
              `${summary.verified} verified, ${summary.refused} refused (now invalid), ${summary.unavailable} unavailable ` +
              `(unchanged)${summary.failed ? `, ${summary.failed} failed` : ''}; ${summary.skipped} not due`,
          );
          for (const r of summary.results.filter((x) => x.outcome !== 'verified'))
            say(`  ${r.id} (${r.connector}) ${r.outcome}: ${r.message ?? ''}`);
        }
        process.exitCode =
          summary.refused > 0 ? ExitCode.providerRejected : summary.unavailable + summary.failed > 0 ? ExitCode.providerUnavailable : 0;
      });
    });
}

/** A bar on a terminal (cli-progress loaded only then); nothing elsewhere. */
async function verifyBar(): Promise<{ update: (done: number, total: number) => void; stop: () => void }> {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    { format: ' verifying |{bar}| {value}/{total} credentials', stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (done, total) => {
      if (!started) bar.start(total, 0);
      started = true;
      bar.update(done);
    },
    stop: () => started && bar.stop(),
  };
}

function printTile(tile: CredentialTile, options: GlobalOptions, headline?: string): void {
  if (options.json) return printJson(tile);
  if (headline) say(`${headline}\n`);
  say(formatTile(tile));
}
