import type { AuditLog } from '../audit/audit-log.js';
import { InputError, NotFoundError, StoreError } from '../errors.js';
import type { WebhookDelivery } from '../generated/webhook-delivery.js';
import type { WebhookEventType } from '../generated/webhook-event-type.js';
import { type Page, type PageOptions, pageOf } from '../page-cursor.js';
import type { Collection } from '../store/collection.js';
import { printable } from '../text/printable.js';
import { timeOfId } from './outbox.js';
import type { WebhookEndpoints } from './webhook-endpoints.js';

export type { WebhookDelivery };
export type DeliveryAttemptRecord = WebhookDelivery['attempts'][number];

/** One event on its way to one endpoint, as stored: the body exactly as it is signed and sent, and its attempts. */
export interface DeliveryRecord {
  v: 1;
  /** The event's id: the `webhook-id` of every attempt. */
  eventId: string;
  endpointId: string;
  workspace: string;
  type: WebhookEventType;
  body: string;
  status: WebhookDelivery['status'];
  createdAt: string;
  /** Failed attempts since the last success or redelivery: the retry schedule's position. */
  failures: number;
  /** Epoch ms: a pending delivery is not tried before it. */
  nextAttemptAt?: number;
  attempts: DeliveryAttemptRecord[];
  rev?: number;
}

/** Attempts kept per delivery: the schedule's twelve and a few redeliveries. */
export const ATTEMPTS_KEPT = 20;

/** The store key of a delivery: its endpoint, then its event (so one event is one delivery per endpoint). */
export function deliveryKey(endpointId: string, eventId: string): string {
  return `${endpointId}.${eventId}`;
}

export function deliveryView(record: DeliveryRecord): WebhookDelivery {
  const view: WebhookDelivery = {
    id: record.eventId,
    endpointId: record.endpointId,
    type: record.type,
    status: record.status,
    createdAt: record.createdAt,
    attempts: record.attempts.map((a) => ({ ...a })),
  };
  if (record.status === 'pending' && record.nextAttemptAt !== undefined && record.nextAttemptAt > 0)
    view.nextAttemptAt = new Date(record.nextAttemptAt).toISOString();
  return view;
}

const MESSAGE_ID = /^msg_[A-Za-z0-9]{16,40}$/;

/**
 * What a workspace's admins see of the deliveries to their endpoints, and sending a failed one again.
 * The endpoint is read through WebhookEndpoints first: another workspace's endpoint (and so its
 * deliveries) is not found.
 */
export class WebhookDeliveries {
  constructor(
    private readonly deliveries: Collection<DeliveryRecord>,
    private readonly endpoints: WebhookEndpoints,
    private readonly audit?: AuditLog,
    /** Told when a delivery is due again: the delivery loop in this process looks at once. */
    private readonly onDue?: () => void,
  ) {}

  /** Deliveries still to be sent (due now or waiting for a retry), every workspace's, counted up to `cap` (a metric's scrape). */
  async pendingCount(cap: number): Promise<number> {
    return (await this.deliveries.first(cap, { where: { field: 'status', equals: 'pending' } })).length;
  }

  /** Oldest first (as every listing): the events sent, failed or on their way to the endpoint, a page at a time. */
  async list(endpointId: string, options: PageOptions & { status?: WebhookDelivery['status'] } = {}): Promise<Page<WebhookDelivery>> {
    await this.endpoints.get(endpointId);
    const found = await this.deliveries.where('endpointId', endpointId);
    const shown = found
      .filter((d) => options.status === undefined || d.status === options.status)
      .sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
    // Positioned by the event id's own time, so the cursor's order is the id order sorted here.
    return pageOf(shown.map(deliveryView), options, (d) => new Date(timeOfId(d.id)).toISOString());
  }

  /**
   * A failed delivery is pending again, due now, its retry schedule started over. It goes out when
   * the endpoint is enabled (re-enable one credport disabled first: PATCH enabled true).
   */
  async redeliver(endpointId: string, deliveryId: string): Promise<WebhookDelivery> {
    const endpoint = await this.endpoints.get(endpointId);
    if (typeof deliveryId !== 'string' || !MESSAGE_ID.test(deliveryId))
      throw new InputError(`"${printable(String(deliveryId))}" is not a delivery id (they look like msg_17650000000000123456789abc)`, {
        field: 'deliveryId',
      });
    const key = deliveryKey(endpointId, deliveryId);
    const { record } = await this.deliveries.change(
      key,
      (now) => {
        if (!now) throw new NotFoundError(`no delivery ${deliveryId} to webhook endpoint ${endpointId}`);
        if (now.status !== 'failed')
          throw new InputError(`delivery ${deliveryId} is ${now.status}: only a failed delivery is sent again`, {
            field: 'deliveryId',
            code: 'delivery_not_failed',
          });
        return { ...now, status: 'pending', failures: 0, nextAttemptAt: 0 };
      },
      { attempts: 20, conflict: () => new StoreError('write_conflict', `delivery ${deliveryId} kept changing; try again`) },
    );
    await this.audit?.note({
      action: 'webhook.redelivered',
      outcome: 'ok',
      webhookId: endpointId,
      workspace: record.workspace,
      detail: `${record.type} ${deliveryId}${endpoint.enabled ? '' : ' (the endpoint is disabled: it goes out once enabled)'}`,
    });
    this.onDue?.();
    return deliveryView(record);
  }
}
