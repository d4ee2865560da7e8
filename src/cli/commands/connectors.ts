import type { Command } from 'commander';
import { formatTable, printJson } from '../output.js';
import { type GlobalOptions, runAction } from '../run-action.js';

export function registerConnectorCommands(program: Command): void {
  const connectors = program.command('connectors').description('the providers credport can hold credentials for, and their forms');

  connectors
    .command('list', { isDefault: true })
    .description('list the connectors (the default)')
    .option('--json', 'print JSON')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await runAction(options, async () => {
        const { loadRegistry } = await import('../../open-credport.js');
        const registry = await loadRegistry();
        const rows = registry.list().map((c) => ({
          id: c.id,
          title: c.manifest.title,
          auth: c.manifest.auth.strategy,
          baseUrl: c.manifest.http.baseUrl,
          verification:
            c.manifest.verification.via === 'token-exchange'
              ? 'token exchange'
              : `${c.manifest.verification.method ?? 'GET'} ${c.manifest.verification.path ?? '/'}`,
          secretFields: [...c.secretFields],
          docs: c.manifest.docs,
        }));
        if (options.json) return printJson(rows);
        console.log(
          formatTable(
            ['ID', 'TITLE', 'AUTH', 'VERIFIES WITH', 'BASE URL'],
            rows.map((r) => [r.id, r.title, r.auth, r.verification, r.baseUrl]),
          ),
        );
      });
    });

  connectors
    .command('show')
    .description('show the credential form of a connector (JSON Schema + uiSchema, for a host to render)')
    .argument('<connector>', 'connector id, e.g. front')
    .option('--json', 'print JSON')
    .action(async (id: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await runAction(options, async () => {
        const { loadRegistry } = await import('../../open-credport.js');
        const registry = await loadRegistry();
        const connector = registry.get(id);
        const form = registry.form(id);
        if (options.json) {
          return printJson({ id: connector.id, title: connector.manifest.title, docs: connector.manifest.docs, form });
        }
        const properties = form.schema.properties as Record<string, { title?: string; description?: string; writeOnly?: boolean }>;
        const required = new Set(form.schema.required as string[]);
        console.log(`${connector.manifest.title} (${connector.id}): ${connector.manifest.description ?? ''}`.trim());
        console.log(`docs: ${connector.manifest.docs}\n`);
        console.log(
          formatTable(
            ['FIELD', 'TITLE', 'REQUIRED', 'SECRET', 'HELP'],
            Object.entries(properties).map(([key, p]) => [
              key,
              p.title ?? '',
              required.has(key) ? 'yes' : 'no',
              p.writeOnly ? 'yes' : 'no',
              p.description ?? '',
            ]),
          ),
        );
      });
    });
}
