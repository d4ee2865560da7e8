import type { Command } from 'commander';
import { formatTable, printJson } from '../output.js';
import { type GlobalOptions, withCredport } from '../run-action.js';
import { createProgress } from '../sync-progress.js';

/** key: value lines for a saved configuration. */
function formatRecord(record: object): string {
  return Object.entries(record)
    .map(([key, value]) => `${`${key}:`.padEnd(15)}${Array.isArray(value) ? value.join(', ') : String(value)}`)
    .join('\n');
}

const list = (value: string) => value.split(',').map((s) => s.trim()).filter(Boolean);

export function registerSyncCommands(program: Command): void {
  const sources = program.command('sources').description('data sources: a connector read with a saved credential');
  sources
    .command('add')
    .description('save a source that reads a connector with a saved credential')
    .argument('<connector>', 'connector id, e.g. front')
    .requiredOption('--name <text>', 'a name for the source')
    .requiredOption('--credential <id>', 'the credential tile to read with (same connector)')
    .option('--streams <a,b>', 'streams to read (default: all)', list)
    .option('--json', 'print JSON')
    .action(async (connector: string, _o: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { name: string; credential: string; streams?: string[] }>();
      await withCredport(options, async ({ configs }) => {
        const source = await configs.addSource({ name: options.name, connector, credentialId: options.credential, ...(options.streams ? { streams: options.streams } : {}) });
        if (options.json) return printJson(source);
        console.log(`saved source ${source.id} (${source.connector}: ${source.streams.join(', ')})`);
      });
    });
  sources
    .command('list')
    .option('--json', 'print JSON')
    .action(async (_o: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await withCredport(options, async ({ configs }) => {
        const all = await configs.listSources();
        if (options.json) return printJson(all);
        console.log(formatTable(['ID', 'CONNECTOR', 'NAME', 'CREDENTIAL', 'STREAMS'], all.map((s) => [s.id, s.connector, s.name, s.credentialId, s.streams.join(',')])));
      });
    });
  for (const verb of ['show', 'delete'] as const) {
    sources
      .command(verb)
      .argument('<id>', 'source id')
      .option('--json', 'print JSON')
      .action(async (id: string, _o: unknown, command: Command) => {
        const options = command.optsWithGlobals<GlobalOptions>();
        await withCredport(options, async ({ configs }) => {
          const result = verb === 'show' ? await configs.source(id) : await configs.deleteSource(id);
          if (options.json) return printJson(result);
          console.log(verb === 'show' ? formatRecord(result) : `deleted ${id}`);
        });
      });
  }

  const destinations = program.command('destinations').description('destinations: where a sync writes (jsonl: one file per stream)');
  destinations
    .command('add')
    .description('save a destination')
    .argument('<connector>', 'jsonl')
    .requiredOption('--name <text>', 'a name for the destination')
    .option('--path <dir>', 'folder for the files (default: $CREDPORT_HOME/destinations/<id>)')
    .option('--credential <id>', 'a credential, for destinations that write to a provider')
    .option('--json', 'print JSON')
    .action(async (connector: string, _o: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { name: string; path?: string; credential?: string }>();
      await withCredport(options, async ({ configs }) => {
        const destination = await configs.addDestination({
          name: options.name,
          connector: connector as 'jsonl',
          ...(options.path ? { path: options.path } : {}),
          ...(options.credential ? { credentialId: options.credential } : {}),
        });
        if (options.json) return printJson(destination);
        console.log(`saved destination ${destination.id} (${destination.connector} in ${destination.path})`);
      });
    });
  destinations
    .command('list')
    .option('--json', 'print JSON')
    .action(async (_o: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await withCredport(options, async ({ configs }) => {
        const all = await configs.listDestinations();
        if (options.json) return printJson(all);
        console.log(formatTable(['ID', 'CONNECTOR', 'NAME', 'PATH'], all.map((d) => [d.id, d.connector, d.name, d.path])));
      });
    });
  for (const verb of ['show', 'delete'] as const) {
    destinations
      .command(verb)
      .argument('<id>', 'destination id')
      .option('--json', 'print JSON')
      .action(async (id: string, _o: unknown, command: Command) => {
        const options = command.optsWithGlobals<GlobalOptions>();
        await withCredport(options, async ({ configs }) => {
          const result = verb === 'show' ? await configs.destination(id) : await configs.deleteDestination(id);
          if (options.json) return printJson(result);
          console.log(verb === 'show' ? formatRecord(result) : `deleted ${id}`);
        });
      });
  }

  program
    .command('sync')
    .description('move records from a source to a destination, page by page, with a checkpoint after each page (a rerun resumes)')
    .argument('<source-id>', 'source id')
    .requiredOption('--to <destination-id>', 'destination id')
    .option('--streams <a,b>', 'only these streams', list)
    .option('--full-refresh', 'forget the checkpoint and read every stream from the start')
    .option('--json', 'one JSON event per line (started, page, rate_limited, retry, checkpoint, finished, failed)')
    .action(async (sourceId: string, _o: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { to: string; streams?: string[]; fullRefresh?: boolean }>();
      // With --json the error is already a `failed` event; run-action adds the usual error object.
      await withCredport(options, async ({ configs, syncs }) => {
        const source = await configs.source(sourceId);
        const progress = options.json ? undefined : createProgress(options.streams ?? source.streams);
        try {
          const summary = await syncs.run(sourceId, options.to, {
            ...(options.streams ? { streams: options.streams } : {}),
            fullRefresh: options.fullRefresh === true,
            onEvent: (event) => (options.json ? process.stdout.write(`${JSON.stringify(event)}\n`) : progress!.onEvent(event)),
          });
          progress?.stop();
          if (!options.json) {
            console.log(`synced ${summary.records} records in ${summary.pages} pages in ${(summary.ms / 1000).toFixed(1)} s (${summary.rateLimited} rate-limited waits, ${summary.retries} retries)`);
          }
        } finally {
          progress?.stop();
        }
      });
    });
}
