import type { CredentialTile } from '../generated/credential-tile.js';
import { HIDDEN_CHAR } from '../text/text-rule.js';
import { terminalSafe } from '../text/terminal-safe.js';

/**
 * What the CLI prints quotes the store (names, paths, stream keys, a provider's words), and a record
 * saved by an older release, or written into the store by hand, may hold an escape sequence: every
 * human-readable line goes out through terminalSafe, so a terminal is never told to do anything.
 */
export function say(text: string): void {
  process.stdout.write(`${safeLines(text)}\n`);
}

/** The same, on stderr (progress, warnings, errors). */
export function sayError(text: string): void {
  process.stderr.write(`${safeLines(text)}\n`);
}

/** Each line made terminal-safe, the line breaks between them kept. */
export function safeLines(text: string): string {
  return text
    .split('\n')
    .map((line) => terminalSafe(line, Infinity))
    .join('\n');
}

/**
 * JSON for a terminal or a pipe. JSON.stringify escapes C0 controls but leaves DEL, C1 controls,
 * bidi marks and invisible characters raw (and some terminals act on C1 sent as UTF-8): those are
 * escaped too. Parsed, it is the same value.
 */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(HIDDEN_CHAR, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${jsonText(value, 2)}\n`);
}

/** One JSON object per line (events). */
export function printJsonLine(value: unknown): void {
  process.stdout.write(`${jsonText(value)}\n`);
}

export function describeIdentity(tile: CredentialTile): string {
  if (!tile.identity) return '';
  const { id, name, ...rest } = tile.identity;
  const main =
    name !== undefined && id !== undefined ? `${String(name)} (${String(id)})` : [name, id].filter((v) => v !== undefined).join(' ');
  const extra = Object.entries(rest).map(([k, v]) => `${k}=${String(v)}`);
  return [main, ...extra].filter(Boolean).join(', ');
}

export function formatTile(tile: CredentialTile): string {
  const rows: [string, string | undefined][] = [
    ['id', tile.id],
    ['connector', tile.connector],
    ['name', tile.name],
    ['description', tile.description],
    ['status', tile.status],
    ['identity', describeIdentity(tile) || undefined],
    ['secret', tile.secretHint ? `...${tile.secretHint}` : '(hidden)'],
    ['base URL', tile.baseUrl],
    ['created', tile.createdAt],
    ['updated', tile.updatedAt],
    ['verified', tile.verifiedAt],
  ];
  return rows
    .filter(([, value]) => value !== undefined)
    .map(([label, value]) => `${`${label}:`.padEnd(13)}${value}`)
    .join('\n');
}

/** Longest a cell is shown; a longer one is cut. */
const CELL_MAX = 1000;

/**
 * Columns padded to their widest cell. Cells are made terminal-safe before they are measured: a
 * zero-width or control character counted as one column but shown as none would shift every column after it.
 */
export function formatTable(headers: string[], rows: string[][]): string {
  const safeRows = rows.map((row) => row.map((cell) => terminalSafe(cell, CELL_MAX)));
  const widths = headers.map((h, i) => Math.max(h.length, ...safeRows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(headers), ...safeRows.map(line)].join('\n');
}
