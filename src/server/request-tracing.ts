import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { tracer } from '../telemetry/tracing.js';

/**
 * One server span a request, active while it is handled (a verification, a provider request or a
 * store call made for it nests below). Named `<METHOD> <route pattern>` ("POST /api/v1/credentials",
 * "GET /api/v1/credentials/:id"); its attributes are the method, the route pattern and the status:
 * never the raw URL, a query, a path parameter or a header value, any of which a caller typed or
 * may hold a secret (a login code, a token).
 */
export function registerRequestTracing(app: FastifyInstance): void {
  const spans = new WeakMap<FastifyRequest, Span>();
  app.addHook('onRequest', (request, _reply, done) => {
    const span = tracer.startSpan(request.method, { kind: SpanKind.SERVER });
    // Nothing records (no SDK): no context to enter, nothing to end.
    if (!span.isRecording()) return done();
    spans.set(request, span);
    const route = request.routeOptions.url;
    span.setAttributes({ 'http.request.method': request.method, ...(route ? { 'http.route': route } : {}) });
    if (route) span.updateName(`${request.method} ${route}`);
    // Fastify runs the rest of the request (hooks, body, handler) in this call's async context.
    context.with(trace.setSpan(context.active(), span), done);
  });
  const end = (request: FastifyRequest, status: number | undefined) => {
    const span = spans.get(request);
    if (!span) return;
    spans.delete(request);
    if (status !== undefined) {
      span.setAttribute('http.response.status_code', status);
      // A 4xx is the caller's doing; only the server's own failures mark the span failed.
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: String(status) });
    } else span.setStatus({ code: SpanStatusCode.ERROR, message: 'aborted' });
    span.end();
  };
  app.addHook('onResponse', (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    end(request, undefined);
    done();
  });
}
