import { describe, expect, it } from '@jest/globals';
import { startTraceSdk } from '../../src/telemetry/trace-sdk.js';

// The SDK and the exporter load only when OTEL_EXPORTER_OTLP_ENDPOINT is set: a serve or worker
// that exports no traces imports none of it, and its spans stay the API's no-ops.

type Load = NonNullable<Parameters<typeof startTraceSdk>[2]>;

/** A loader that counts its calls and hands out stand-ins recording what the SDK was given. */
function fakeLoad() {
  const seen = { loads: 0, resource: undefined as unknown, processors: [] as unknown[], registered: 0, shutdown: 0 };
  const load = (async () => {
    seen.loads += 1;
    class NodeTracerProvider {
      constructor(config: { resource: unknown; spanProcessors: unknown[] }) {
        seen.resource = config.resource;
        seen.processors = config.spanProcessors;
      }
      register() {
        seen.registered += 1;
      }
      async shutdown() {
        seen.shutdown += 1;
      }
    }
    return {
      NodeTracerProvider,
      BatchSpanProcessor: class {
        constructor(readonly exporter: unknown) {}
      },
      OTLPTraceExporter: class {
        readonly otlp = true;
      },
      defaultResource: () => ({ merge: (other: unknown) => other }),
      resourceFromAttributes: (attributes: Record<string, string>) => attributes,
    };
  }) as unknown as Load;
  return { load, seen };
}

describe('startTraceSdk', () => {
  it('loads nothing without OTEL_EXPORTER_OTLP_ENDPOINT (unset or blank)', async () => {
    const { load, seen } = fakeLoad();
    expect(await startTraceSdk({}, 'credport-serve', load)).toBeUndefined();
    expect(await startTraceSdk({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ', OTEL_SERVICE_NAME: 'x' }, 'credport-serve', load)).toBeUndefined();
    expect(seen.loads).toBe(0);
  });

  it('with the endpoint: registers a provider named by OTEL_SERVICE_NAME, or the command, and shuts it down', async () => {
    const { load, seen } = fakeLoad();
    const sdk = await startTraceSdk({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, 'credport-worker', load);
    expect(seen).toMatchObject({ loads: 1, registered: 1, resource: { 'service.name': 'credport-worker' } });
    await sdk!.shutdown();
    expect(seen.shutdown).toBe(1);
    await startTraceSdk({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SERVICE_NAME: 'eu-serve' }, 'credport-serve', load);
    expect(seen.resource).toMatchObject({ 'service.name': 'eu-serve' });
    // Spans go out: one batch processor over the OTLP exporter.
    expect(seen.processors).toEqual([{ exporter: { otlp: true } }]);
    // A blank service name is no name: the command's.
    await startTraceSdk({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SERVICE_NAME: '  ' }, 'credport-sync', load);
    expect(seen.resource).toMatchObject({ 'service.name': 'credport-sync' });
  });
});

describe('errorType (a failed span names its error by code or class, never by message)', () => {
  it('takes a stable code, else the class, else Error', async () => {
    const { errorType } = await import('../../src/telemetry/tracing.js');
    expect(errorType(Object.assign(new Error('Front said: token abc'), { code: 'provider_rejected' }))).toBe('provider_rejected');
    expect(errorType(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
    class SyncCancelledError extends Error {}
    expect(errorType(new SyncCancelledError('x'))).toBe('SyncCancelledError');
    // A code or a class name that could carry text is not used as is.
    expect(errorType(Object.assign(new TypeError('x'), { code: 'token abc leaked here' }))).toBe('TypeError');
    expect(errorType(Object.assign(new Error('x'), { code: 'c'.repeat(65) }))).toBe('Error');
    const odd = new Error('x');
    Object.defineProperty(odd, 'constructor', { value: { name: 'has space' } });
    expect(errorType(odd)).toBe('Error');
    const prefixed = new Error('x');
    Object.defineProperty(prefixed, 'constructor', { value: { name: `bad name${'x'.repeat(10)}` } });
    expect(errorType(prefixed)).toBe('Error');
    expect(errorType(null)).toBe('Error');
    expect(errorType('a string thrown')).toBe('String');
  });
});
