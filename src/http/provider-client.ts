import got, { HTTPError, RequestError, type Got, type Method } from 'got';
import type { AuthStrategy } from '../auth/auth-strategy.js';
import { OriginRefusedError, ProviderRejectedError } from '../errors.js';
import { VERSION } from '../package-info.js';
import type { Connector } from '../registry/connector.js';
import { printable } from '../text/printable.js';
import { describeHttpError } from './describe-http-error.js';
import { DEFAULT_HTTP, type HttpSettings } from './http-settings.js';
import { OriginPolicy } from './origin-policy.js';
import type { GuardedAgents } from './outbound-policy.js';
import { type RateGate, retryAfterMs } from './rate-gate.js';
import { heard, publish, statusClassOf } from '../telemetry/channels.js';
import { SpanKind, type Span, traced } from '../telemetry/tracing.js';

export { DEFAULT_HTTP, type HttpSettings } from './http-settings.js';

/** What the client tells its caller about waits, so a sync can show them. */
export type ClientEvent =
  | { type: 'rate_limited'; waitMs: number; attempt: number }
  | { type: 'retry'; waitMs: number; attempt: number; reason: string };

export interface ClientExtras {
  /** Named on a ProviderRejectedError, so a sync knows which tile to mark invalid. */
  credentialId?: string;
  /** Shared by every client of one credential: 429 pauses and exhausted windows hold them all. */
  gate?: RateGate;
  onEvent?: (event: ClientEvent) => void;
  /**
   * The outbound policy's verdict on each request's URL (every attempt, redirect and link): the
   * agents to connect through (whose lookup refuses private addresses), undefined for the default
   * ones, or a thrown OutboundRefusedError. Absent: the operator's reach.
   */
  route?: (url: URL) => GuardedAgents | undefined;
  /** The stream the requests read or write, as its span names it (a manifest's name, or `other`). */
  stream?: string;
}

const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 30_000;

export interface ProviderRequest {
  method?: Method;
  /** Path below the credential's base URL ("/me"), or a full URL (a pagination link). */
  path: string;
  searchParams?: Record<string, string | number>;
  json?: unknown;
  /** Aborts the request (a page asked for ahead that is no longer wanted). */
  signal?: AbortSignal;
}

export interface ProviderResponse<T> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

/** What the shared got instance's hooks need to know about the client a request belongs to. */
interface ClientState {
  readonly policy: OriginPolicy;
  readonly auth: AuthStrategy;
  readonly baseOrigin: string;
  readonly connectorId: string;
  readonly title: string;
  readonly rateLimit: RateLimitWindow | undefined;
  readonly gate: RateGate | undefined;
  readonly onEvent: ((event: ClientEvent) => void) | undefined;
  readonly route: ((url: URL) => GuardedAgents | undefined) | undefined;
}

type RateLimitWindow = NonNullable<Connector['manifest']['http']['rateLimit']>;

/**
 * got instances by their settings. Extending got costs more than the request it makes (options are
 * merged and validated), and a server verifies a new credential on every POST: so every client
 * shares one instance per settings, and the hooks find their credential in the request's context.
 */
const sharedGots = new Map<string, Got>();

function stateOf(options: { context: Record<string, unknown> } | undefined): ClientState {
  const state = options?.context.credport as ClientState | undefined;
  // A request made on the shared instance without a client would go out unchecked: refuse it.
  if (!state) throw new Error('credport: a provider request without its client');
  return state;
}

function sharedGot(http: HttpSettings): Got {
  const key = `${http.timeoutMs}:${http.retries}`;
  let instance = sharedGots.get(key);
  if (instance) return instance;
  instance = got.extend({
    headers: { 'user-agent': `credport/${VERSION}`, accept: 'application/json' },
    responseType: 'json',
    timeout: { request: http.timeoutMs },
    retry: {
      limit: http.retries,
      // 429: wait what the provider asked (read defensively), and hold every request of this
      // credential meanwhile; 5xx and network errors: exponential backoff with full jitter.
      // got's own verdict (computedValue) reads retry-after as seconds only, so a 429 is decided
      // here first; a 429 is safe to retry for any method, since the provider did nothing.
      calculateDelay: ({ attemptCount, retryOptions, error, computedValue }) => {
        if (attemptCount > retryOptions.limit) return 0;
        // A name that does not resolve will not resolve in a few seconds either (EAI_AGAIN is the transient one).
        if (!(error instanceof HTTPError) && error.code === 'ENOTFOUND') return 0;
        const { gate, rateLimit, onEvent, connectorId } = stateOf(error.options);
        if (error instanceof HTTPError && error.response.statusCode === 429) {
          publish('credport:rate-limit-wait', () => ({ connector: connectorId, cause: '429' }));
          const now = gate?.now() ?? Date.now();
          // A fixed window without a reset header (Frontline): a 429 or an exhausted window waits for the next window.
          const windowEnd = rateLimit ? (gate?.windowEndsAt(rateLimit) ?? now + rateLimit.windowMs) : undefined;
          const waitMs = retryAfterMs(error.response.headers, error.response.body, now, windowEnd);
          gate?.pause(waitMs);
          onEvent?.({ type: 'rate_limited', waitMs, attempt: attemptCount });
          return waitMs;
        }
        if (computedValue === 0) return 0;
        const waitMs = Math.round(Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attemptCount));
        const reason = error instanceof HTTPError ? String(error.response.statusCode) : (error.code ?? 'network error');
        onEvent?.({ type: 'retry', waitMs, attempt: attemptCount, reason });
        return waitMs;
      },
    },
    maxRedirects: 5,
    hooks: {
      // Checked on every attempt (retries, redirects, links): the secret goes only where the credential belongs.
      beforeRequest: [
        async (options) => {
          const { policy, auth, gate, title, baseOrigin, connectorId, route } = stateOf(options);
          const url = new URL(String(options.url));
          // A retry or a redirect arrives with the last attempt's header: it is set again only once this URL passes.
          delete options.headers.authorization;
          // Where the operator's policy lets this request connect; refused before any connection.
          options.agent = route?.(url) ?? {};
          if (!policy.allows(url)) {
            throw new OriginRefusedError(
              `refused to send the ${title} credential to ${printable(url.origin, 80)}: it is neither the credential's origin ` +
                `(${baseOrigin}) nor a host the ${connectorId} manifest allows`,
            );
          }
          options.headers.authorization = await auth.authorization();
          // The first attempt passed the gate before got made the request (see ProviderClient.request);
          // a retry or a redirect passes it here.
          const admission = options.context.admission as Admission | undefined;
          if (admission && !admission.used) admission.used = true;
          else if (gate) await admit(gate, connectorId);
        },
      ],
      // Every attempt's answer (retried ones included) passes here before got decides to throw or retry.
      afterResponse: [
        (response) => {
          const { gate, rateLimit, connectorId } = stateOf(response.request.options);
          gate?.observe(response.headers, rateLimit);
          if (heard('credport:provider-request'))
            publish('credport:provider-request', () => ({
              connector: connectorId,
              statusClass: statusClassOf(response.statusCode),
              durationMs: response.timings.phases.total ?? 0,
            }));
          return response;
        },
      ],
      // An attempt that got no answer (refused, reset, timed out): retried, or the last one.
      beforeRetry: [(error) => noAnswer(error)],
      beforeError: [
        (error) => {
          noAnswer(error);
          return error;
        },
      ],
    },
  });
  sharedGots.set(key, instance);
  return instance;
}

/** A request's first pass through its gate, taken before got built the request; got's context shares it across attempts. */
interface Admission {
  used: boolean;
}

/** Waits for the credential's gate; a wait is counted (the window was spent, or the provider asked for a pause). */
async function admit(gate: RateGate, connectorId: string): Promise<void> {
  if ((await gate.acquire()) > 0) publish('credport:rate-limit-wait', () => ({ connector: connectorId, cause: 'gate' }));
}

/** A provider request's outcome on its span: the last answer's status (none: no answer) and the attempts after the first. */
function answered(span: Span, status: number | undefined, resent: number): void {
  if (status !== undefined) span.setAttribute('http.response.status_code', status);
  span.setAttribute('http.request.resend_count', resent);
}

/** An attempt without an HTTP answer, counted as `error` (one with an answer was counted by afterResponse). */
function noAnswer(error: RequestError): void {
  if (error.response !== undefined) return;
  const state = error.options?.context.credport as ClientState | undefined;
  if (!state) return;
  publish('credport:provider-request', () => ({
    connector: state.connectorId,
    statusClass: 'error',
    durationMs: error.timings?.phases.total ?? 0,
  }));
}

/**
 * A provider's client for one credential, on the shared got instance of its settings. Its state
 * rides in each request's context, so the hooks put the secret on a request only when the request
 * goes where the credential belongs, and every error leaves as a redacted credport error.
 */
export class ProviderClient {
  readonly baseUrl: string;
  private readonly got: Got;
  private readonly base: URL;
  private readonly policy: OriginPolicy;
  private readonly context: { credport: ClientState };

  constructor(
    private readonly connector: Connector,
    baseUrl: string,
    private readonly auth: AuthStrategy,
    private readonly http: HttpSettings = DEFAULT_HTTP,
    private readonly extras: ClientExtras = {},
  ) {
    this.baseUrl = baseUrl;
    this.base = new URL(baseUrl);
    this.policy = new OriginPolicy(baseUrl, connector.manifest.http);
    this.got = sharedGot(http);
    this.context = {
      credport: {
        policy: this.policy,
        auth,
        baseOrigin: this.base.origin,
        connectorId: connector.id,
        title: connector.manifest.title,
        rateLimit: connector.manifest.http.rateLimit,
        gate: extras.gate,
        onEvent: extras.onEvent,
        route: extras.route,
      },
    };
  }

  /**
   * The same credential's client reporting its waits to another listener (each stream of a sync):
   * one auth strategy, so a token exchange and its renewals are shared, not made per stream.
   */
  withEvents(onEvent: (event: ClientEvent) => void, stream?: string): ProviderClient {
    return new ProviderClient(this.connector, this.baseUrl, this.auth, this.http, {
      ...this.extras,
      onEvent,
      ...(stream !== undefined ? { stream } : {}),
    });
  }

  /**
   * One provider request, retries and a token renewal included, as one client span: its connector,
   * stream, method, final status and how many times it was sent again (never its URL: a query or a
   * pagination link may hold anything).
   */
  request<T = unknown>(request: ProviderRequest): Promise<ProviderResponse<T>> {
    const method = request.method ?? 'GET';
    return traced(method, { kind: SpanKind.CLIENT, attributes: () => this.spanAttributes(method) }, (span) =>
      this.send<T>(request, method, span),
    );
  }

  private spanAttributes(method: string) {
    return {
      'credport.connector': this.connector.id,
      ...(this.extras.stream !== undefined ? { 'credport.stream': this.extras.stream } : {}),
      'http.request.method': method,
    };
  }

  private async send<T>(request: ProviderRequest, method: Method, span: Span): Promise<ProviderResponse<T>> {
    const url = this.resolve(request.path);
    let resent = 0;
    // A short-lived token refused with 401 gets one fresh exchange and one more try; then the 401 stands.
    for (let renewed = false; ; renewed = true) {
      try {
        const send = (admitted: boolean) =>
          this.got<T>(url, {
            method,
            context: admitted ? { ...this.context, admission: { used: false } } : this.context,
            ...(request.searchParams ? { searchParams: request.searchParams } : {}),
            ...(request.json !== undefined ? { json: request.json } : {}),
            ...(request.signal ? { signal: request.signal } : {}),
          });
        // The gate bounds this credential's requests in flight; its retries keep their slot. The
        // first attempt waits for the gate before got builds the request: a thousand syncs each
        // waiting seconds for its window would otherwise each hold a whole got request meanwhile,
        // long enough to be promoted and die old.
        const gate = this.context.credport.gate;
        const connectorId = this.connector.id;
        const response = await (gate
          ? gate.run(async () => {
              await admit(gate, connectorId);
              return send(true);
            })
          : send(false));
        if (span.isRecording()) answered(span, response.statusCode, resent + response.retryCount);
        return { status: response.statusCode, headers: response.headers, body: response.body };
      } catch (error) {
        // Which token the provider refused, read from got's error before it is replaced by a redacted one.
        const refused = error instanceof RequestError ? error.options?.headers?.authorization : undefined;
        if (error instanceof RequestError) {
          resent += error.request?.retryCount ?? 0;
          if (span.isRecording()) answered(span, error.response?.statusCode, resent);
        }
        const described = describeHttpError(error, {
          provider: this.connector.manifest.title,
          envelope: this.connector.manifest.errors,
          method,
          url,
          secrets: this.auth.secrets(),
        });
        if (
          described instanceof ProviderRejectedError &&
          described.status === 401 &&
          this.auth.invalidate &&
          typeof refused === 'string' &&
          !renewed
        ) {
          this.auth.invalidate(refused);
          resent += 1;
          continue;
        }
        if (described instanceof ProviderRejectedError) described.credentialId = this.extras.credentialId;
        throw described;
      }
    }
  }

  /** Obtains a token now (a token exchange proves the credential); returns its expiry when the strategy has one. */
  async authorizeNow(): Promise<number | undefined> {
    try {
      await this.auth.authorization();
    } catch (error) {
      if (error instanceof ProviderRejectedError) error.credentialId = this.extras.credentialId;
      throw error;
    }
    return this.auth.expiresAt?.();
  }

  /** What must never be printed: for redacting what the provider sends back. */
  secrets(): readonly string[] {
    return this.auth.secrets();
  }

  /** Whether a URL (a pagination link) may receive this credential. */
  allows(url: URL): boolean {
    return this.policy.allows(url);
  }

  /** A path below the credential's base URL as a full URL. */
  urlFor(path: string): URL {
    return this.resolve(path);
  }

  /** "/me" joins the base URL's path ("/public/v1" + "/me"); an absolute URL is taken as is and left to the origin hook. */
  private resolve(path: string): URL {
    if (/^https?:\/\//i.test(path)) return new URL(path);
    const prefix = this.base.pathname.replace(/\/+$/, '');
    return new URL(`${prefix}${path.startsWith('/') ? path : `/${path}`}`, this.base.origin);
  }
}
