#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { CredportError, ExitCode } from '../errors.js';
import { VERSION } from '../package-info.js';
import { endQuietlyOnBrokenPipe } from './broken-pipe.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerConnectCommands } from './commands/connect.js';
import { registerConnectorCommands } from './commands/connectors.js';
import { registerCredentialCommands } from './commands/credentials.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerEmulateCommand } from './commands/emulate.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerConfigCommands } from './commands/configs.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSyncCommand } from './commands/sync.js';
import { registerTokenCommands } from './commands/tokens.js';
import { registerWebhookCommands } from './commands/webhooks.js';
import { registerWorkerCommand } from './commands/worker.js';

const EPILOG = `
Environment:
  CREDPORT_HOME          folder of the store and key file (default $XDG_DATA_HOME/credport or ~/.local/share/credport)
  CREDPORT_STORE         keyv store URI (default sqlite://$CREDPORT_HOME/credport.sqlite)
  CREDPORT_MASTER_KEY    base64 32-byte master key (default: $CREDPORT_HOME/master.key, created on first use, mode 0600)
  CREDPORT_WORKSPACE     the workspace commands work in (--workspace; default: default)
  CREDPORT_MASTER_KEY_NEXT  the key \`credport keys rotate\` moves the store to (set it in every process first)
  CREDPORT_CONNECTORS    extra connector folders, ':'-separated
  CREDPORT_HTTP_TIMEOUT_MS, CREDPORT_HTTP_RETRIES   provider request timeout (10000) and retries (2)
  CREDPORT_QUEUE         redis:// URL of the sync queue: \`sync\` enqueues, \`credport worker\` runs (default: run in-process)
  CREDPORT_REDIS         redis:// URL where every process shares each credential's rate limit

Exit codes:
  0 done   1 internal error   2 bad input or usage (nothing saved)
  3 the provider rejected the credential (401/403; nothing saved)
  4 the provider could not be reached or answered unexpectedly (nothing saved)
  5 the store or master key cannot be used
  130 a sync stopped by Ctrl-C (SIGINT) or SIGTERM after its last checkpoint: run it again to finish the run
  141 standard output was closed by its reader (e.g. | head -1): stopped quietly, as on SIGPIPE`;

export function buildProgram(): Command {
  const program = new Command('credport')
    .description('Credentials for data-integration hosts: defined by JSON Schema, verified with the provider, sealed at rest.')
    .version(VERSION)
    .option('--home <dir>', 'folder of the store and master key file (overrides CREDPORT_HOME)')
    .option('--store <uri>', 'keyv store URI (overrides CREDPORT_STORE)')
    .option(
      '--workspace <name>',
      'the workspace whose credentials, sources, destinations and syncs a command sees (overrides CREDPORT_WORKSPACE; default: default)',
    )
    .option('--debug', 'print stack traces of errors')
    .addHelpText('after', EPILOG)
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      // A mistyped `--api-key=<token>` must not be echoed back into a terminal log.
      outputError: (text, write) => write(`credport: ${scrubOptionValues(text).replace(/^error: /, '')}`),
    });
  registerConnectorCommands(program);
  registerCredentialCommands(program);
  registerConfigCommands(program);
  registerKeyCommands(program);
  registerAuditCommand(program);
  registerTokenCommands(program);
  registerConnectCommands(program);
  registerWebhookCommands(program);
  registerSyncCommand(program);
  registerWorkerCommand(program);
  registerServeCommand(program);
  registerEmulateCommand(program);
  registerDemoCommand(program);
  for (const command of allCommands(program)) command.exitOverride().configureOutput(program.configureOutput());
  return program;
}

function* allCommands(command: Command): Generator<Command> {
  for (const sub of command.commands) {
    yield sub;
    yield* allCommands(sub);
  }
}

/** Commander quotes the whole unknown argument; keep only an option's name (up to "=", at most 24 characters). */
function scrubOptionValues(text: string): string {
  return text.replace(/unknown option '(.*)'/s, (_match, arg: string) => {
    const name = arg.startsWith('--') ? arg.split('=')[0]! : arg.slice(0, 2);
    return `unknown option '${name.slice(0, 24)}${name.length < arg.length ? '...' : ''}'`;
  });
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      const ok = ['commander.helpDisplayed', 'commander.version'].includes(error.code);
      process.exitCode = ok ? ExitCode.ok : ExitCode.badInput;
      return;
    }
    // Thrown by an option parser (--operation a=b, --param): reported like any other bad input.
    if (error instanceof CredportError) {
      process.stderr.write(`credport: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    throw error;
  }
}

endQuietlyOnBrokenPipe();
await main(process.argv);
