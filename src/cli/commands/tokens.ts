import type { Command } from 'commander';
import type { Role } from '../../access/access.js';
import { InputError } from '../../errors.js';
import { formatTable, printJson, say } from '../output.js';
import { type GlobalOptions, withCredport } from '../run-action.js';

const ROLES = ['viewer', 'editor', 'admin'];

export function registerTokenCommands(program: Command): void {
  const tokens = program
    .command('tokens')
    .description('API tokens for `credport serve`, each scoped to one workspace (--workspace) with a role');

  tokens
    .command('create')
    .description('create an API token in the workspace (--workspace), printed once: only its SHA-256 is kept')
    .requiredOption('--name <text>', 'what the token is for (shown in tokens list)')
    .requiredOption(
      '--role <role>',
      'viewer (sees tiles), editor (adds, tests, rotates, runs syncs) or admin (also deletes, manages tokens)',
    )
    .option('--json', 'print the token record, with the token, as JSON')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { name: string; role: string }>();
      if (!ROLES.includes(options.role)) throw new InputError(`--role must be one of ${ROLES.join(', ')}`, { field: 'role' });
      await withCredport(options, async (credport) => {
        const created = await credport.tokens.create({ name: options.name, role: options.role as Role });
        if (options.json) return printJson(created);
        say(`created ${created.id} (${created.role} of workspace ${created.workspace}); the token, shown this once:`);
        say(created.token!);
      });
    });

  tokens
    .command('list')
    .description("the workspace's API tokens (never the tokens themselves)")
    .option('--json', 'print JSON')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await withCredport(options, async (credport) => {
        const all = await credport.tokens.list();
        if (options.json) return printJson(all);
        if (all.length === 0)
          return say('no API tokens in this workspace: create one with `credport tokens create --name <text> --role <role>`');
        say(
          formatTable(
            ['ID', 'NAME', 'ROLE', 'WORKSPACE', 'CREATED', 'BY'],
            all.map((t) => [t.id, t.name, t.role, t.workspace, t.createdAt, t.createdBy ?? '']),
          ),
        );
      });
    });

  tokens
    .command('delete')
    .description('revoke an API token: the next request with it is refused')
    .argument('<id>', 'token id (tok_...)')
    .option('--json', 'print JSON')
    .action(async (id: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await withCredport(options, async (credport) => {
        const result = await credport.tokens.revoke(id);
        if (options.json) return printJson(result);
        say(`revoked ${result.id}`);
      });
    });
}
