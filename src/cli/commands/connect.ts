import type { Command } from 'commander';
import type { ConnectSession } from '../../connect/connect-sessions.js';
import { InputError } from '../../errors.js';
import { printJson, say } from '../output.js';
import { type GlobalOptions, withCredport } from '../run-action.js';

const MODES = ['pick', 'create', 'reconnect'];

interface CreateOptions extends GlobalOptions {
  endUser: string;
  displayName?: string;
  email?: string;
  origin: string[];
  connector?: string[];
  mode?: string;
  credential?: string;
  expiresIn?: string;
  showWorkspaceCredentials?: boolean;
  prefillName?: string;
  prefillDescription?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * `credport connect session create|show|revoke`: the same calls as the library's credport.connect,
 * for a host's operator trying a session by hand (its back end calls POST /api/v1/connect/sessions).
 */
export function registerConnectCommands(program: Command): void {
  const connect = program
    .command('connect')
    .description(
      "Connect sessions: a host's back end mints one for one of its end users, who adds or picks credentials in the host's page",
    );
  const session = connect
    .command('session')
    .description('mint, read and revoke connect sessions in the workspace (--workspace); minting needs an editor or admin');

  session
    .command('create')
    .description('mint a connect session; its token is printed once (only its SHA-256 is kept) and is exchanged once by the Connect page')
    .requiredOption('--end-user <id>', "the host's id of the end user the session acts for (credentials it creates record it)")
    .option('--display-name <text>', 'the end user as the Connect page greets them')
    .option('--email <address>', "the end user's email, kept with the session, never shown to the page")
    .requiredOption(
      '--origin <origin>',
      'a host page origin allowed to frame the Connect page, exactly scheme://host[:port] (https, or http on loopback); repeat for more',
      collect,
    )
    .option('--connector <id>', 'a connector the session may list and add credentials for (repeat; default every connector)', collect)
    .option(
      '--mode <mode>',
      'pick (tiles and Add Credential, the default), create (the overlay), reconnect (a new secret for --credential)',
    )
    .option('--credential <id>', 'reconnect: the credential (cred_...) whose secret the end user replaces')
    .option('--expires-in <seconds>', 'seconds until the session expires: default 1800, at most 14400')
    .option('--show-workspace-credentials', "pick: list the workspace's credentials too, not only the end user's")
    .option('--prefill-name <text>', 'the Credential Name the form starts with')
    .option('--prefill-description <text>', 'the Credential Description the form starts with')
    .option('--json', 'print the answer, with the token, as JSON')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<CreateOptions>();
      if (options.mode !== undefined && !MODES.includes(options.mode))
        throw new InputError(`--mode must be one of ${MODES.join(', ')}`, { field: 'mode' });
      const expiresIn = options.expiresIn === undefined ? undefined : Number(options.expiresIn);
      if (expiresIn !== undefined && !Number.isInteger(expiresIn))
        throw new InputError('--expires-in must be a whole number of seconds (60 to 14400)', { field: 'expiresIn' });
      const prefill = {
        ...(options.prefillName !== undefined ? { name: options.prefillName } : {}),
        ...(options.prefillDescription !== undefined ? { description: options.prefillDescription } : {}),
      };
      await withCredport(options, async (credport) => {
        const created = await credport.connect.createSession({
          endUser: {
            id: options.endUser,
            ...(options.displayName !== undefined ? { displayName: options.displayName } : {}),
            ...(options.email !== undefined ? { email: options.email } : {}),
          },
          allowedOrigins: options.origin,
          ...(options.connector ? { connectors: options.connector } : {}),
          ...(options.mode !== undefined ? { mode: options.mode as 'pick' | 'create' | 'reconnect' } : {}),
          ...(options.credential !== undefined ? { credentialId: options.credential } : {}),
          ...(expiresIn !== undefined ? { expiresIn } : {}),
          ...(options.showWorkspaceCredentials ? { showWorkspaceCredentials: true } : {}),
          ...(Object.keys(prefill).length > 0 ? { prefill } : {}),
        });
        if (options.json) return printJson(created);
        say(`created ${created.id}, until ${created.expiresAt}; its Connect page is ${created.url}`);
        say('the token, shown this once (hand it to the page by postMessage, never in a URL):');
        say(created.token);
      });
    });

  session
    .command('show')
    .description("a connect session's state (pending, opened, completed, expired, revoked) and the tile it created or repaired")
    .argument('<id>', 'session id (csn_...)')
    .option('--json', 'print JSON')
    .action(async (id: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await withCredport(options, async (credport) => {
        const found = await credport.connect.getSession(id);
        if (options.json) return printJson(found);
        say(describeSession(found));
      });
    });

  session
    .command('revoke')
    .description('revoke a connect session at once: its token cannot be exchanged and its bearer stops working')
    .argument('<id>', 'session id (csn_...)')
    .option('--json', 'print JSON')
    .action(async (id: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await withCredport(options, async (credport) => {
        const revoked = await credport.connect.revokeSession(id);
        if (options.json) return printJson(revoked);
        say(`revoked ${revoked.id}`);
      });
    });
}

function describeSession(s: ConnectSession): string {
  const lines = [
    `${s.id}: ${s.state} (${s.mode}) for end user ${s.endUser.id} in workspace ${s.workspace}`,
    `  connectors: ${s.connectors.join(', ')}`,
    `  allowed origins: ${s.allowedOrigins.join(', ')}`,
    `  expires: ${s.expiresAt}`,
  ];
  if (s.credentialId) lines.push(`  reconnects: ${s.credentialId}`);
  if (s.outcome) lines.push(`  ${s.outcome.action}: ${s.outcome.credentialId} at ${s.outcome.at}`);
  return lines.join('\n');
}
