import type { CredentialTile } from '../generated/credential-tile.js';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function describeIdentity(tile: CredentialTile): string {
  if (!tile.identity) return '';
  const { id, name, ...rest } = tile.identity;
  const main = name !== undefined && id !== undefined ? `${String(name)} (${String(id)})` : [name, id].filter((v) => v !== undefined).join(' ');
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

export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(headers), ...rows.map(line)].join('\n');
}
