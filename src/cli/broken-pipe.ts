import type { Writable } from 'node:stream';

/** What a shell reports for a Unix tool ended by SIGPIPE (128 + 13); Node ignores SIGPIPE, so we exit with it ourselves. */
export const BROKEN_PIPE_EXIT = 141;

/**
 * A reader that closes early (`credport --help | head -1`) ends the command at once and quietly, as
 * SIGPIPE ends a Unix tool: no stack trace, nothing more written. Without a listener, Node throws
 * the stream's EPIPE as an unhandled 'error' event. Any other stream error is left to Node.
 */
export function endQuietlyOnBrokenPipe(streams: Writable[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit(BROKEN_PIPE_EXIT);
    });
  }
}
