// credport/client: a typed client of `credport serve`'s HTTP API for a host's back end. It loads
// nothing of the server (no fastify, keyv or got): fetch, and the types generated from the document.
export type { CallOptions, EventStream, ServerSentEvent } from './call-options.js';
export { type CredportClient, type CredportClientOptions, createCredportClient } from './create-client.js';
export { CredportProblem } from './credport-problem.js';
export { nextCursor } from './next-cursor.js';
export type * from '../generated/credport-api.js';
