import { describe, expect, it } from '@jest/globals';
import { serverSentEvents } from '../../src/client/server-sent-events.js';

/** A body that arrives in these pieces, as a socket may cut it anywhere. */
function body(...pieces: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(encoder.encode(piece));
      controller.close();
    },
  });
}

async function read(stream: ReadableStream<Uint8Array>): Promise<unknown[]> {
  const messages: unknown[] = [];
  for await (const message of serverSentEvents(stream)) messages.push(message);
  return messages;
}

describe('serverSentEvents', () => {
  it('reads id, event and JSON data, whatever the chunks and line endings, skipping comments', async () => {
    const text =
      ': keepalive\n\nid: 1\nevent: started\ndata: {"event":"started"}\n\r\nid: 2\r\nevent: page\r\ndata: {"event":"page",\r\ndata: "records":3}\r\n\r\n';
    const whole = await read(body(text));
    expect(whole).toEqual([
      { id: '1', event: 'started', data: { event: 'started' } },
      { id: '2', event: 'page', data: { event: 'page', records: 3 } },
    ]);
    // Cut after every character (a CR and its LF in different chunks included): the same events.
    expect(await read(body(...text.split('')))).toEqual(whole);
  });

  it('keeps the last id for an event that sends none, and drops an event left unfinished at the end', async () => {
    expect(await read(body('id: 7\ndata: 1\n\ndata: 2\n\ndata: 3'))).toEqual([
      { id: '7', event: 'message', data: 1 },
      { id: '7', event: 'message', data: 2 },
    ]);
  });
});
