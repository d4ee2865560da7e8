import type { ReverifySummary } from '../credentials/reverify.js';
import { CredportError } from '../errors.js';
import type { JsonLog } from '../logging/json-log.js';
import { printJsonLine, say, sayError } from './output.js';

/** One line per scheduled re-verification pass that checked anything (JSON with --json). */
export function announcePass(summary: ReverifySummary, json: boolean, log?: JsonLog): void {
  const { checked, verified, refused, unavailable, failed, skipped, ms } = summary;
  if (log)
    return void log.logger.info(
      { event: 'reverified', checked, verified, refused, unavailable, failed, skipped, ms },
      `re-verified ${checked} credential${checked === 1 ? '' : 's'}`,
    );
  if (json) return printJsonLine({ event: 'reverified', checked, verified, refused, unavailable, failed, skipped, ms });
  if (checked === 0) return;
  say(
    `re-verified ${checked} credential${checked === 1 ? '' : 's'}: ${verified} verified, ${refused} refused (now invalid), ` +
      `${unavailable} unavailable${failed ? `, ${failed} failed` : ''}`,
  );
  for (const r of summary.results.filter((x) => x.outcome === 'refused')) say(`  ${r.id} (${r.connector}) refused: ${r.message ?? ''}`);
}

/** A pass that could not run (the store away): said, and the next pass tries again. */
export function announcePassFailed(error: unknown, json: boolean, log?: JsonLog): void {
  const message = error instanceof CredportError ? error.message : 'internal error';
  if (log) return void log.logger.error({ event: 'reverify_failed', message }, `a re-verification pass failed: ${message}`);
  if (json) return printJsonLine({ event: 'reverify_failed', message });
  sayError(`credport: a re-verification pass failed: ${message}; the next one tries again`);
}
