import { sessionHeaders, signedOut } from './api.js';

export interface StreamEvent {
  event: string;
  data: string;
}

/**
 * Follows a Server-Sent Events stream of credport's API. Not EventSource: it cannot send the
 * session's Authorization header. Like EventSource, a stream that ends early is resumed where it
 * stopped (Last-Event-ID); `onEvent` returns true for the event that ends it. Resolves true when
 * that event came, false when the stream was refused or could not be reached (the caller then asks
 * for the state instead).
 */
export async function followEvents(path: string, onEvent: (event: StreamEvent) => boolean, signal: AbortSignal): Promise<boolean> {
  let lastId = '';
  for (let attempt = 0; attempt < 10 && !signal.aborted; attempt++) {
    const headers = sessionHeaders({ accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) });
    const response = await fetch(`/api/v1${path}`, { headers, credentials: 'omit', cache: 'no-store', signal }).catch(() => undefined);
    if (!response?.ok || !response.body) {
      if (response?.status === 401) signedOut();
      return false;
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let event: StreamEvent & { id?: string } = { event: 'message', data: '' };
    for (;;) {
      const chunk = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (chunk.done) break;
      buffer += chunk.value;
      for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
        const line = buffer.slice(0, end).replace(/\r$/, '');
        buffer = buffer.slice(end + 1);
        if (line === '') {
          if (event.id !== undefined) lastId = event.id;
          if (event.data !== '' && onEvent({ event: event.event, data: event.data.replace(/\n$/, '') })) {
            await reader.cancel().catch(() => undefined);
            return true;
          }
          event = { event: 'message', data: '' };
          continue;
        }
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event.event = value;
        else if (field === 'data') event.data += `${value}\n`;
        else if (field === 'id') event.id = value;
      }
    }
    if (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}
