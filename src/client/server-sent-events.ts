import type { ServerSentEvent } from './call-options.js';

/**
 * The events of a text/event-stream body, by the WHATWG framing: `field: value` lines, a blank
 * line ends an event, `:` starts a comment (the server's keepalive). Each `data:` is JSON.
 */
export async function* serverSentEvents<T>(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent<T>> {
  let buffer = '';
  let id: string | undefined;
  let event = 'message';
  let data: string[] = [];
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let end = buffer.search(/\r\n|\n|\r/);
      while (end !== -1 && !(end === buffer.length - 1 && buffer[end] === '\r' && !done)) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(buffer.startsWith('\r\n', end) ? end + 2 : end + 1);
        if (line === '') {
          if (data.length > 0) yield { id, event, data: JSON.parse(data.join('\n')) as T };
          event = 'message';
          data = [];
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          const text = colon === -1 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
          if (field === 'data') data.push(text);
          else if (field === 'event') event = text;
          else if (field === 'id') id = text;
        }
        end = buffer.search(/\r\n|\n|\r/);
      }
      if (done) return;
    }
  } finally {
    // Leaving the loop early (a break in for await) closes the connection.
    await reader.cancel().catch(() => undefined);
  }
}
