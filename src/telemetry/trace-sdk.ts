import { VERSION } from '../package-info.js';

/** A running trace SDK: `shutdown` exports what is left and stops (on SIGTERM, at the end of the command). */
export interface TraceSdk {
  shutdown(): Promise<void>;
}

type Load = () => Promise<{
  NodeTracerProvider: typeof import('@opentelemetry/sdk-trace-node').NodeTracerProvider;
  BatchSpanProcessor: typeof import('@opentelemetry/sdk-trace-node').BatchSpanProcessor;
  OTLPTraceExporter: typeof import('@opentelemetry/exporter-trace-otlp-http').OTLPTraceExporter;
  defaultResource: typeof import('@opentelemetry/resources').defaultResource;
  resourceFromAttributes: typeof import('@opentelemetry/resources').resourceFromAttributes;
}>;

/** The SDK's modules, imported only when traces are exported: a process that exports none never loads them. */
const loadSdk: Load = async () => {
  const [node, exporter, resources] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  return {
    NodeTracerProvider: node.NodeTracerProvider,
    BatchSpanProcessor: node.BatchSpanProcessor,
    OTLPTraceExporter: exporter.OTLPTraceExporter,
    defaultResource: resources.defaultResource,
    resourceFromAttributes: resources.resourceFromAttributes,
  };
};

/**
 * Starts exporting the spans credport makes (telemetry/tracing.ts) when OTEL_EXPORTER_OTLP_ENDPOINT
 * is set, the standard variable: a NodeTracerProvider (its AsyncLocalStorage context manager nests
 * the spans), batched, sent as OTLP JSON over HTTP to `<endpoint>/v1/traces`. The exporter and the
 * batch processor read the other standard OTEL_EXPORTER_OTLP_* and OTEL_BSP_* variables themselves.
 * Unset: undefined, and nothing of the SDK is imported (the API's spans stay no-ops).
 */
export async function startTraceSdk(env: NodeJS.ProcessEnv, defaultService: string, load: Load = loadSdk): Promise<TraceSdk | undefined> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()) return undefined;
  const sdk = await load();
  const service = env.OTEL_SERVICE_NAME?.trim() || defaultService;
  const provider = new sdk.NodeTracerProvider({
    resource: sdk.defaultResource().merge(sdk.resourceFromAttributes({ 'service.name': service, 'service.version': VERSION })),
    spanProcessors: [new sdk.BatchSpanProcessor(new sdk.OTLPTraceExporter())],
  });
  provider.register();
  return {
    async shutdown() {
      // Exports the spans still batched; a collector that does not answer is the exporter's timeout, not a hang.
      await provider.shutdown().catch(() => undefined);
    },
  };
}
