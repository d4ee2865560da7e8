import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';

/**
 * The OpenTelemetry SDK as a test registers it: a NodeTracerProvider (AsyncLocalStorage context, as
 * in `serve` and `worker`) exporting each ended span at once to memory.
 */
export interface SpanRecorder {
  /** Every span ended since the start or the last `reset`. */
  spans(): ReadableSpan[];
  reset(): void;
  /** Unregisters the SDK: the API's no-op again. */
  stop(): Promise<void>;
}

export function recordSpans(): SpanRecorder {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  return {
    spans: () => exporter.getFinishedSpans(),
    reset: () => exporter.reset(),
    async stop() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** Everything a span carries that a collector would show: names, attributes, events, status, links. */
export function serialised(spans: readonly ReadableSpan[]): string {
  return JSON.stringify(
    spans.map((s) => ({
      name: s.name,
      attributes: s.attributes,
      events: s.events,
      status: s.status,
      links: s.links.map((l) => l.attributes ?? {}),
    })),
  );
}
