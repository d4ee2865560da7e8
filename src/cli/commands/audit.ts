import type { Command } from 'commander';
import { sinceTime, wholeNumber } from '../option-parsers.js';
import { formatTable, printJson, say } from '../output.js';
import { type GlobalOptions, withCredport } from '../run-action.js';

interface AuditOptions extends GlobalOptions {
  credential?: string;
  since?: Date;
  limit?: number;
}

/** What `credport audit` prints without --limit: the trail only grows, and a terminal wants the recent end. */
const DEFAULT_LATEST = 1_000;

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description(
      'the audit trail of credential events: created, verified, refused, rotated, renamed, used by a sync, deleted, master key rotated',
    )
    .option('--credential <id>', 'only the events of this credential')
    .option('--since <when>', 'only events since a time ago (45s, 30m, 24h, 7d), a date (2026-11-01) or a date-time', sinceTime())
    .option('--limit <n>', 'the latest n events (default 1000)', wholeNumber('limit'))
    .option('--json', 'print JSON: an array of events, oldest first')
    .addHelpText(
      'after',
      `
Each event has its time, the actor (cli:<OS user> for the CLI, api:token or api:session:<id> for the
HTTP API, worker:<host> for a queued sync without one), the action, the credential and connector,
the outcome (ok, refused by the provider, provider unavailable) and a detail. It never holds a secret,
a credential's name or its description. The trail lives in the store and is only ever appended to.`,
    )
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<AuditOptions>();
      await withCredport(options, async ({ audit }) => {
        const events = await audit.list({
          ...(options.credential !== undefined ? { credentialId: options.credential } : {}),
          ...(options.since !== undefined ? { since: options.since } : {}),
          latest: options.limit ?? DEFAULT_LATEST,
        });
        if (options.json) return printJson(events);
        if (events.length === 0) return say('no audit events match');
        say(
          formatTable(
            ['TIME', 'ACTOR', 'ACTION', 'OUTCOME', 'CREDENTIAL', 'CONNECTOR', 'DETAIL'],
            events.map((e) => [e.at, e.actor, e.action, e.outcome, e.credentialId ?? '', e.connector ?? '', e.detail ?? '']),
          ),
        );
      });
    });
}
