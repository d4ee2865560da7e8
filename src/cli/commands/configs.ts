import type { Command } from 'commander';
import type { Credport } from '../../open-credport.js';
import { formatTable, printJson, say } from '../output.js';
import { commaList, keyValues, readMapping, wholeNumber } from '../option-parsers.js';
import { type GlobalOptions, withCredport } from '../run-action.js';

export function registerConfigCommands(program: Command): void {
  const sources = program.command('sources').description('data sources: a connector read with a saved credential');
  sources
    .command('add')
    .description('save a source: a provider read with a saved credential, or local JSONL files (connector jsonl)')
    .argument('<connector>', 'connector id (front), or jsonl')
    .requiredOption('--name <text>', 'a name for the source')
    .option('--credential <id>', 'provider sources: the credential tile to read with (same connector)')
    .option('--path <dir|file>', 'jsonl sources: a folder with one <stream>.jsonl per stream, or one file')
    .option('--streams <a,b>', 'streams to read (default: all)', commaList)
    .option(
      '--concurrency <n>',
      "requests in flight at once when it is synced, 1-32 (default: the connector's)",
      wholeNumber('concurrency'),
    )
    .option('--json', 'print JSON')
    .action(async (connector: string, _o: unknown, command: Command) => {
      const options = command.optsWithGlobals<
        GlobalOptions & { name: string; credential?: string; path?: string; streams?: string[]; concurrency?: number }
      >();
      await withCredport(options, async ({ configs }) => {
        const source = await configs.addSource({
          name: options.name,
          connector,
          ...(options.credential ? { credentialId: options.credential } : {}),
          ...(options.path ? { path: options.path } : {}),
          ...(options.streams ? { streams: options.streams } : {}),
          ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
        });
        if (options.json) return printJson(source);
        say(`saved source ${source.id} (${source.connector}: ${source.streams.join(', ')})`);
      });
    });
  registerListShowDelete(sources, 'source', {
    list: ({ configs }) => configs.listSources(),
    show: ({ configs }, id) => configs.source(id),
    remove: ({ configs }, id) => configs.deleteSource(id),
    columns: [
      ['ID', (s) => s.id],
      ['CONNECTOR', (s) => s.connector],
      ['NAME', (s) => s.name],
      ['READS FROM', (s) => s.credentialId ?? s.path ?? ''],
      ['STREAMS', (s) => s.streams.join(',')],
    ],
  });

  const destinations = program.command('destinations').description('destinations: where a sync writes (jsonl: one file per stream)');
  destinations
    .command('add')
    .description('save a destination: local JSONL files (jsonl), or a provider written with a saved credential (front)')
    .argument('<connector>', 'jsonl, or a provider connector with operations (front)')
    .requiredOption('--name <text>', 'a name for the destination')
    .option('--path <dir>', 'jsonl: folder for the files (default: $CREDPORT_HOME/destinations/<id>)')
    .option('--credential <id>', 'provider destinations: the credential tile to write with')
    .option(
      '--operation <stream=operation,...>',
      'provider destinations: the operation each stream goes to, e.g. contacts=contacts.create',
      keyValues,
      {},
    )
    .option(
      '--map <file>',
      'provider destinations: a JSON file {"<stream>": {"/body/field": "/record/field"}} for fields named differently',
    )
    .option('--param <name=value...>', 'provider destinations: path parameters, e.g. inbox_id=inb_123')
    .option('--json', 'print JSON')
    .action(async (connector: string, _o: unknown, command: Command) => {
      const options = command.optsWithGlobals<
        GlobalOptions & {
          name: string;
          path?: string;
          credential?: string;
          operation: Record<string, string>;
          map?: string;
          param?: string[];
        }
      >();
      await withCredport(options, async ({ configs }) => {
        const params = (options.param ?? []).reduce<Record<string, string>>((all, pair) => keyValues(pair, all), {});
        const destination = await configs.addDestination({
          name: options.name,
          connector,
          ...(options.path ? { path: options.path } : {}),
          ...(options.credential ? { credentialId: options.credential } : {}),
          ...(Object.keys(options.operation).length > 0 ? { operations: options.operation } : {}),
          ...(options.map ? { mapping: await readMapping(options.map) } : {}),
          ...(Object.keys(params).length > 0 ? { params } : {}),
        });
        if (options.json) return printJson(destination);
        const where =
          destination.path ??
          Object.entries(destination.operations ?? {})
            .map(([s, o]) => `${s} -> ${o}`)
            .join(', ');
        say(`saved destination ${destination.id} (${destination.connector}: ${where})`);
      });
    });
  registerListShowDelete(destinations, 'destination', {
    list: ({ configs }) => configs.listDestinations(),
    show: ({ configs }, id) => configs.destination(id),
    remove: ({ configs }, id) => configs.deleteDestination(id),
    columns: [
      ['ID', (d) => d.id],
      ['CONNECTOR', (d) => d.connector],
      ['NAME', (d) => d.name],
      [
        'WRITES TO',
        (d) =>
          d.path ??
          Object.entries(d.operations ?? {})
            .map(([s, o]) => `${s}->${o}`)
            .join(','),
      ],
    ],
  });
}

interface SavedKind<T> {
  list: (credport: Credport) => Promise<T[]>;
  show: (credport: Credport, id: string) => Promise<T>;
  remove: (credport: Credport, id: string) => Promise<{ id: string; deleted: true }>;
  columns: [string, (item: T) => string][];
}

/** list, show and delete read the same for every kind of saved configuration. */
function registerListShowDelete<T extends object>(group: Command, noun: string, kind: SavedKind<T>): void {
  group
    .command('list')
    .description(`list saved ${noun}s`)
    .option('--json', 'print JSON')
    .action(async (_o: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await withCredport(options, async (credport) => {
        const all = await kind.list(credport);
        if (options.json) return printJson(all);
        if (all.length === 0) return say(`no ${noun}s saved yet`);
        say(
          formatTable(
            kind.columns.map(([h]) => h),
            all.map((item) => kind.columns.map(([, cell]) => cell(item))),
          ),
        );
      });
    });
  group
    .command('show')
    .description(`show one ${noun}`)
    .argument('<id>', `${noun} id`)
    .option('--json', 'print JSON')
    .action(async (id: string, _o: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await withCredport(options, async (credport) => {
        const item = await kind.show(credport, id);
        if (options.json) return printJson(item);
        say(formatRecord(item));
      });
    });
  group
    .command('delete')
    .description(`delete a ${noun} (its synced files stay)`)
    .argument('<id>', `${noun} id`)
    .option('--json', 'print JSON')
    .action(async (id: string, _o: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await withCredport(options, async (credport) => {
        const result = await kind.remove(credport, id);
        if (options.json) return printJson(result);
        say(`deleted ${result.id}`);
      });
    });
}

/** key: value lines for a saved configuration; a map (operations, params, a mapping) as its entries. */
function formatRecord(record: object): string {
  return Object.entries(record)
    .map(([key, value]) => `${`${key}:`.padEnd(15)}${showValue(value)}`)
    .join('\n');
}

function showValue(value: unknown): string {
  if (Array.isArray(value)) return value.join(', ');
  if (value !== null && typeof value === 'object')
    return Object.entries(value)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(', ');
  return String(value);
}
