import { type Attributes, isSpanContextValid, type Link, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { VERSION } from '../package-info.js';

/**
 * Spans through `@opentelemetry/api` alone: until an SDK registers a provider (telemetry/trace-sdk.ts,
 * when OTEL_EXPORTER_OTLP_ENDPOINT is set, or a host embedding credport with its own SDK), every
 * tracer is the API's no-op and a span costs what the API's no-op costs. Attribute values are only
 * bounded, non-secret values (a connector id, a manifest's stream name, an enum, a count, a status),
 * never an id, a name, a URL, a header or a message: an exported span is read by whoever runs the
 * collector.
 */
export const tracer = trace.getTracer('credport', VERSION);

export type { Span } from '@opentelemetry/api';

export interface SpanOptions {
  /** Set once the span starts; skipped (a function: not even made) when nothing records it. */
  attributes?: Attributes | (() => Attributes);
  kind?: SpanKind;
  /**
   * A root: a new trace whatever runs around it, linked to the span that was active (a sync a
   * request started outlives it, and is its own job).
   */
  root?: boolean;
}

/**
 * Runs `work` inside a new active span: its children (the calls it makes, awaited or not) nest
 * under it. Ended when `work` settles; a failure marks it ERROR with the error's class and code only
 * (a message can quote a provider's answer), and is rethrown as it was.
 */
export function traced<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  const links = options.root ? linkToActive() : undefined;
  return tracer.startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, ...(options.root ? { root: true } : {}), ...(links ? { links } : {}) },
    async (span) => {
      const attributes = options.attributes;
      if (attributes && span.isRecording()) span.setAttributes(typeof attributes === 'function' ? attributes() : attributes);
      try {
        return await work(span);
      } catch (error) {
        failed(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** Marks a span failed: status ERROR and `error.type`, the error's code or class (never its message). */
export function failed(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  const type = errorType(error);
  span.setAttribute('error.type', type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
}

/** A bounded name for an error: a credport error's stable code, a Node error's code (ECONNRESET), or its class. */
export function errorType(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[\w.-]{1,64}$/.test(code)) return code;
  const name = (error as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' && /^\w{1,64}$/.test(name) ? name : 'Error';
}

/** The active span, as a link from a new root (none when nothing is active). It may have ended: a request answers before its sync ends. */
function linkToActive(): Link[] | undefined {
  const active = trace.getActiveSpan()?.spanContext();
  return active && isSpanContextValid(active) ? [{ context: active }] : undefined;
}

export { SpanKind, SpanStatusCode };
