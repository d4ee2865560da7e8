import type { Command } from 'commander';
import type { KeyStatus, RotationProgress } from '../../keys/key-rotation.js';
import { formatTable, jsonText, printJson, say } from '../output.js';
import { type GlobalOptions, withCredport } from '../run-action.js';

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description("the store's master key: which records are under which key, and rotation to a new one");

  keys
    .command('status')
    .description('the store key, a rotation under way, retired keys, and how many credentials each key seals')
    .option('--json', 'print JSON')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await withCredport(options, async (credport) => {
        const status = await credport.keys.status();
        if (options.json) return printJson(status);
        say(describeStatus(status));
      });
    });

  keys
    .command('rotate')
    .description('re-seal every credential under a new master key while the store stays in use; run it again to resume')
    .option('--json', 'print the result as JSON; progress goes to stderr as one JSON line a batch (unless stderr is a terminal: a bar)')
    .addHelpText(
      'after',
      `
Where the new key comes from:
  a key file (the default): a new random key is written to <home>/master.key.next, and replaces
    master.key when every credential is re-sealed. The old key is then gone: a backup of the store
    made before the rotation needs a copy of the old key file to be read.
  CREDPORT_MASTER_KEY: set CREDPORT_MASTER_KEY_NEXT to the new key (openssl rand -base64 32) in every
    process that uses the store first, then rotate; afterwards make the new key CREDPORT_MASTER_KEY
    everywhere and remove CREDPORT_MASTER_KEY_NEXT.

With --json and stderr not a terminal, each step is a line on stderr such as
  {"event":"progress","resealed":1500,"left":47000,"total":50000}
resealed: written under the new key by this run so far; left: not yet sent to the store.

From the moment it starts, every process seals new records under the new key and reads either.
Ctrl-C stops it between batches (exit 130): every record stays readable, and the next run goes on
where it stopped. A record that cannot be re-sealed is named, and the old key stays in use.`,
    )
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await withCredport(options, async (credport) => {
        const { promoteNextKeyFile, prepareNextKeyFile } = await import('../../keys/master-key.js');
        const { nonEmpty } = await import('../../store/store-location.js');
        // The key file's own rotation: no key in the environment, so the next key is a file beside it.
        const fileKeys =
          nonEmpty(process.env.CREDPORT_MASTER_KEY) === undefined && nonEmpty(process.env.CREDPORT_MASTER_KEY_NEXT) === undefined;
        if (fileKeys) await prepareNextKeyFile(credport.location.keyFile);
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
        const progress = await progressReport(options.json === true);
        try {
          const result = await credport.keys.rotate({ signal: stop.signal, onProgress: progress.update });
          progress.stop();
          const promoted = fileKeys && (await promoteNextKeyFile(credport.location.keyFile, result.to));
          if (options.json) return printJson(result);
          say(
            result.already
              ? `the store's key is already ${result.to}: nothing to re-seal`
              : `re-sealed ${result.resealed} of ${result.total} credential${result.total === 1 ? '' : 's'} under key ` +
                  `${result.to} in ${result.ms} ms; key ${result.from} is retired`,
          );
          say(
            promoted
              ? `${credport.location.keyFile} now holds key ${result.to}`
              : fileKeys
                ? `warning: ${credport.location.keyFile}.next does not hold key ${result.to}, so ${credport.location.keyFile} was ` +
                  `left as it is: give every process key ${result.to}`
                : 'now make the value of CREDPORT_MASTER_KEY_NEXT the CREDPORT_MASTER_KEY of every process that uses the store, ' +
                  'and remove CREDPORT_MASTER_KEY_NEXT',
          );
        } finally {
          progress.stop();
          process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
        }
      });
    });
}

/**
 * A bar on a terminal (cli-progress loaded only then). Elsewhere, with --json, a JSON line on stderr
 * each step, for a script or supervisor that shows or logs how far a long rotation got (stdout keeps
 * its one result object); without --json nothing (the result line says it all).
 */
async function progressReport(json: boolean): Promise<{ update: (p: RotationProgress) => void; stop: () => void }> {
  if (!process.stderr.isTTY) {
    if (!json) return { update: () => undefined, stop: () => undefined };
    return {
      update: (p) => void process.stderr.write(`${jsonText({ event: 'progress', resealed: p.resealed, left: p.left, total: p.total })}\n`),
      stop: () => undefined,
    };
  }
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    { format: ' re-sealing |{bar}| {value}/{total} credentials', stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (p) => {
      if (!started) bar.start(p.resealed + p.left, p.resealed);
      started = true;
      bar.setTotal(p.resealed + p.left);
      bar.update(p.resealed);
    },
    stop: () => {
      if (started) bar.stop();
      started = false;
    },
  };
}

function describeStatus(status: KeyStatus): string {
  const role = (kid: string) =>
    kid === status.rotation?.to
      ? 'new key (rotation under way)'
      : kid === status.rotation?.from
        ? 'old key (rotation under way)'
        : kid === status.key
          ? 'store key'
          : status.retired.some((r) => r.kid === kid)
            ? 'RETIRED'
            : 'unknown';
  const lines = [
    `store key:   ` +
      `${status.key}${status.rotation ? ` (rotating to ${status.rotation.to} since ${status.rotation.startedAt}: run credport keys rotate to finish)` : ''}`,
    `sealing:     ${status.sealingWith}`,
    `held here:   ${status.held.join(', ')}`,
    ...(status.retired.length ? [`retired:     ${status.retired.map((r) => `${r.kid} (${r.at})`).join(', ')}`] : []),
    '',
    formatTable(
      ['KEY', 'CREDENTIALS', 'ROLE'],
      status.records.map((r) => [r.kid, String(r.count), role(r.kid)]),
    ),
  ];
  const stray = status.records.filter((r) => role(r.kid) === 'RETIRED' || role(r.kid) === 'unknown').reduce((n, r) => n + r.count, 0);
  if (stray > 0)
    lines.push(
      `warning: ${stray} credential${stray === 1 ? ' is' : 's are'} sealed under a retired or unknown key: run credport keys ` +
        `rotate while that key is still held to re-seal ${stray === 1 ? 'it' : 'them'}`,
    );
  if (status.damaged > 0) lines.push(`${status.damaged} damaged record${status.damaged === 1 ? '' : 's'} (see credport credentials list)`);
  return lines.join('\n');
}
