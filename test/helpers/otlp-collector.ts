import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One POST as the collector got it. */
export interface OtlpExport {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

/** A span of an OTLP JSON export, flattened: its ids, kind, its attributes as plain values, its resource's service.name. */
export interface ExportedSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  service: string;
  attributes: Record<string, unknown>;
}

type KeyValues = { key: string; value: Record<string, unknown> }[];
interface OtlpBody {
  resourceSpans: {
    resource: { attributes: KeyValues };
    scopeSpans: {
      spans: { name: string; kind: number; traceId: string; spanId: string; parentSpanId?: string; attributes?: KeyValues }[];
    }[];
  }[];
}

/** An OTLP/HTTP collector stand-in on loopback: records every export, answers 200. */
export async function startCollector() {
  const exports: OtlpExport[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      exports.push({
        method: request.method ?? '',
        url: request.url ?? '',
        contentType: request.headers['content-type'],
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports,
    /** Every span of every export so far. */
    spans(): ExportedSpan[] {
      const values = (list: KeyValues = []) => Object.fromEntries(list.map((a) => [a.key, Object.values(a.value)[0]]));
      return exports.flatMap((e) =>
        (JSON.parse(e.body) as OtlpBody).resourceSpans.flatMap((r) =>
          r.scopeSpans.flatMap((s) =>
            s.spans.map((span) => ({
              name: span.name,
              kind: span.kind,
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId || undefined,
              service: String(values(r.resource.attributes)['service.name']),
              attributes: values(span.attributes),
            })),
          ),
        ),
      );
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
