import type { Command } from 'commander';
import { ExitCode, InputError } from '../../errors.js';
import type { WebhookEventType } from '../../generated/webhook-event-type.js';
import type {
  WebhookEndpoint,
  WebhookEndpointChanges,
  WebhookEndpointCreated,
  WebhookTestResult,
} from '../../webhooks/webhook-endpoints.js';
import type { WebhookDelivery } from '../../webhooks/webhook-deliveries.js';
import { commaList } from '../option-parsers.js';
import { formatTable, printJson, say } from '../output.js';
import { type GlobalOptions, withCredport } from '../run-action.js';

const EVENTS_HELP =
  'comma-separated event types: credential.created, credential.verified, credential.invalidated, credential.recovered, ' +
  'credential.rotated, credential.deleted, connect.session.completed, sync.succeeded, sync.failed';

const HELP = `
Deliveries are signed in the Standard Webhooks form (webhook-id, webhook-timestamp, webhook-signature
headers): a receiver verifies each with the standardwebhooks package, new Webhook(secret).verify(body,
headers). The secret (whsec_...) is printed once, by add and rotate-secret; only its sealed form is kept.
A workspace's API token may register only https:// URLs to public addresses; the operator may allow
an origin with webhooks=<origin> (serve --allow-origin, CREDPORT_ALLOWED_ORIGINS). Admin role.
See docs/webhooks.md.`;

/** `credport webhooks add|list|show|update|delete|rotate-secret|test|deliveries|redeliver`: the library's credport.webhooks, for the workspace (--workspace). */
export function registerWebhookCommands(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description("the workspace's webhook endpoints (--workspace): where signed events are POSTed, and a signed test delivery")
    .addHelpText('after', HELP);

  webhooks
    .command('add')
    .description('register an endpoint; its signing secret is printed once')
    .requiredOption('--url <url>', 'where deliveries are POSTed: https://, or http:// to loopback (or an origin the operator allows)')
    .requiredOption('--events <types>', EVENTS_HELP, commaList)
    .option('--description <text>', 'what the endpoint is for')
    .option('--json', 'print the endpoint, with its secret, as JSON')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { url: string; events: string[]; description?: string }>();
      await withCredport(options, async (credport) => {
        const created = await credport.webhooks.create({
          url: options.url,
          events: options.events as WebhookEventType[],
          ...(options.description !== undefined ? { description: options.description } : {}),
        });
        if (options.json) return printJson(created);
        saySecret(`registered ${created.id} (${created.url}, events ${created.events.join(', ')})`, created);
      });
    });

  webhooks
    .command('list')
    .description("the workspace's endpoints (never a secret)")
    .option('--json', 'print JSON')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await withCredport(options, async (credport) => {
        const all = [...(await credport.webhooks.list())];
        if (options.json) return printJson(all);
        if (all.length === 0)
          return say('no webhook endpoints in this workspace: add one with `credport webhooks add --url <url> --events <types>`');
        say(
          formatTable(
            ['ID', 'URL', 'EVENTS', 'ENABLED', 'CREATED'],
            all.map((e) => [
              e.id,
              e.url,
              e.events.join(','),
              e.enabled ? 'yes' : `no${e.disabledReason ? `: ${e.disabledReason}` : ''}`,
              e.createdAt,
            ]),
          ),
        );
      });
    });

  webhooks
    .command('show')
    .description('one endpoint (never its secret)')
    .argument('<id>', 'endpoint id (whe_...)')
    .option('--json', 'print JSON')
    .action(async (id: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await withCredport(options, async (credport) => {
        const endpoint = await credport.webhooks.get(id);
        if (options.json) return printJson(endpoint);
        say(describe(endpoint));
      });
    });

  webhooks
    .command('update')
    .description('change an endpoint: its URL (checked as when added), events, enabled, description')
    .argument('<id>', 'endpoint id (whe_...)')
    .option('--url <url>', 'a new URL')
    .option('--events <types>', EVENTS_HELP, commaList)
    .option('--enable', 'send to it again (clears the reason it was disabled)')
    .option('--disable', 'send nothing to it (a test delivery still goes)')
    .option('--description <text>', 'a new description ("" removes it)')
    .option('--json', 'print JSON')
    .action(async (id: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<
        GlobalOptions & { url?: string; events?: string[]; enable?: boolean; disable?: boolean; description?: string }
      >();
      if (options.enable && options.disable) throw new InputError('give --enable or --disable, not both', { field: 'enable' });
      const changes: WebhookEndpointChanges = {};
      if (options.url !== undefined) changes.url = options.url;
      if (options.events !== undefined) changes.events = options.events as WebhookEventType[];
      if (options.enable || options.disable) changes.enabled = Boolean(options.enable);
      if (options.description !== undefined) changes.description = options.description;
      await withCredport(options, async (credport) => {
        const endpoint = await credport.webhooks.update(id, changes);
        if (options.json) return printJson(endpoint);
        say(`updated ${endpoint.id}\n${describe(endpoint)}`);
      });
    });

  webhooks
    .command('delete')
    .description('delete an endpoint: nothing more is sent to it')
    .argument('<id>', 'endpoint id (whe_...)')
    .option('--json', 'print JSON')
    .action(async (id: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await withCredport(options, async (credport) => {
        const result = await credport.webhooks.delete(id);
        if (options.json) return printJson(result);
        say(`deleted ${result.id}`);
      });
    });

  webhooks
    .command('rotate-secret')
    .description('a new signing secret, printed once; the old one keeps signing alongside it for 24 hours')
    .argument('<id>', 'endpoint id (whe_...)')
    .option('--json', 'print the endpoint, with its new secret, as JSON')
    .action(async (id: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await withCredport(options, async (credport) => {
        const rotated = await credport.webhooks.rotateSecret(id);
        if (options.json) return printJson(rotated);
        saySecret(`rotated the secret of ${rotated.id}; the old one signs alongside until 24 hours from now`, rotated);
      });
    });

  webhooks
    .command('test')
    .description('send the endpoint a signed webhook.test message now; exit 4 when it was not delivered (not 2xx, no answer)')
    .argument('<id>', 'endpoint id (whe_...)')
    .option('--json', 'print the attempt as JSON')
    .action(async (id: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await withCredport(options, async (credport) => {
        const attempt = await credport.webhooks.test(id);
        if (options.json) printJson(attempt);
        else say(describeAttempt(attempt));
        if (!attempt.delivered) process.exitCode = ExitCode.providerUnavailable;
      });
    });

  webhooks
    .command('deliveries')
    .description("the events sent (or on their way) to an endpoint, oldest first: each one's attempts and next retry")
    .argument('<id>', 'endpoint id (whe_...)')
    .option('--status <status>', 'only pending, delivered or failed ones')
    .option('--json', 'print JSON (every attempt, with the first 200 characters of each answer)')
    .action(async (id: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { status?: string }>();
      if (options.status !== undefined && !['pending', 'delivered', 'failed'].includes(options.status))
        throw new InputError(`--status is pending, delivered or failed, not "${options.status.slice(0, 40)}"`, { field: 'status' });
      await withCredport(options, async (credport) => {
        const all = [
          ...(await credport.webhookDeliveries.list(id, options.status ? { status: options.status as WebhookDelivery['status'] } : {})),
        ];
        if (options.json) return printJson(all);
        if (all.length === 0) return say(`no deliveries to ${id}${options.status ? ` that are ${options.status}` : ''}`);
        say(
          formatTable(
            ['WEBHOOK-ID', 'TYPE', 'STATUS', 'ATTEMPTS', 'LAST'],
            all.map((d) => [
              d.id,
              d.type,
              d.status + (d.nextAttemptAt ? ` (next ${d.nextAttemptAt})` : ''),
              String(d.attempts.length),
              lastAttempt(d),
            ]),
          ),
        );
      });
    });

  webhooks
    .command('redeliver')
    .description('send a failed delivery again, its retry schedule started over (enable an endpoint credport disabled first)')
    .argument('<id>', 'endpoint id (whe_...)')
    .argument('<delivery>', "the delivery's webhook-id (msg_...), from `credport webhooks deliveries <id>`")
    .option('--json', 'print the delivery as JSON')
    .action(async (id: string, delivery: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await withCredport(options, async (credport) => {
        const again = await credport.webhookDeliveries.redeliver(id, delivery);
        if (options.json) return printJson(again);
        say(`${again.id} is pending again: a running serve or worker sends it within a second`);
      });
    });
}

/** The last attempt in a few words: its status or error. */
function lastAttempt(delivery: WebhookDelivery): string {
  const last = delivery.attempts.at(-1);
  if (!last) return '-';
  return `${last.at} ${last.delivered ? `${last.status}` : (last.error ?? 'failed')}`;
}

function saySecret(line: string, endpoint: WebhookEndpointCreated): void {
  say(`${line}; the signing secret, shown this once:`);
  say(endpoint.secret);
}

function describe(endpoint: WebhookEndpoint): string {
  const lines = [
    `${endpoint.id}  ${endpoint.url}`,
    `  events: ${endpoint.events.join(', ')}`,
    `  enabled: ${endpoint.enabled ? 'yes' : `no${endpoint.disabledReason ? ` (${endpoint.disabledReason})` : ''}`}`,
  ];
  if (endpoint.description) lines.push(`  description: ${endpoint.description}`);
  lines.push(`  created ${endpoint.createdAt}, updated ${endpoint.updatedAt}`);
  if (endpoint.secretRotatedAt) lines.push(`  secret rotated ${endpoint.secretRotatedAt}`);
  return lines.join('\n');
}

function describeAttempt(attempt: WebhookTestResult): string {
  const head = attempt.delivered
    ? `delivered ${attempt.webhookId}: the receiver answered ${attempt.status} in ${attempt.durationMs} ms`
    : `not delivered ${attempt.webhookId} (${attempt.durationMs} ms): ${attempt.error ?? 'no answer'}`;
  return attempt.response ? `${head}\n  answer: ${attempt.response}` : head;
}
