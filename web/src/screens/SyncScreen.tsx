import { useEffect, useState } from 'react';
import { api, messageOf } from '../api.js';
import { CredentialCard } from '../components/CredentialCard.js';
import { followEvents, type StreamEvent } from '../event-stream.js';
import type { CredentialTile, SyncEvent, SyncJob, SyncSummary } from '../types.js';

type Progress = SyncJob['progress'][string];

/**
 * Step 4: the sync, live. One progress bar per stream from the Server-Sent Events (read with fetch,
 * so they carry the session's header); a stream's bar fills when it finishes (a provider does not
 * say how many records there are). A refusal mid-sync (a revoked token) shows the credential's tile
 * as the server now has it: invalid.
 */
export function SyncScreen({ job, credential, onDone }: { job: SyncJob; credential: CredentialTile; onDone: () => void }) {
  const [progress, setProgress] = useState<Record<string, Progress>>(job.progress);
  const [summary, setSummary] = useState<SyncSummary | undefined>(job.summary);
  const [failure, setFailure] = useState<string | undefined>(job.error?.message);
  const [tile, setTile] = useState(credential);

  useEffect(() => {
    const stop = new AbortController();
    const set = (stream: string, change: Partial<Progress>) =>
      setProgress((all) => ({
        ...all,
        [stream]: { ...(all[stream] ?? { records: 0, pages: 0, status: 'waiting' }), ...change } as Progress,
      }));
    /** Applies one event; true for the one that ends the sync (the server ends the stream after it). */
    const apply = ({ data }: StreamEvent): boolean => {
      // The `data:` of each message is one SyncEvent (schemas/sync-event.schema.json); its `event:` line is the same kind.
      const e = JSON.parse(data) as SyncEvent;
      if (e.event === 'started') for (const stream of e.skipped) set(stream, { status: 'skipped' });
      if (e.event === 'stream_started') set(e.stream, { status: 'reading' });
      if (e.event === 'page') set(e.stream, { records: e.total, pages: e.page, status: 'reading' });
      if (e.event === 'stream_finished') set(e.stream, { records: e.records, pages: e.pages, status: 'done' });
      if (e.event === 'finished') setSummary(e.summary);
      if (e.event === 'failed') {
        setFailure(e.message);
        api<CredentialTile>('GET', `/credentials/${encodeURIComponent(credential.id)}`).then(setTile, () => undefined);
      }
      return e.event === 'finished' || e.event === 'failed';
    };
    void followEvents(`/syncs/${encodeURIComponent(job.id)}/events`, apply, stop.signal).then((ended) => {
      if (ended || stop.signal.aborted) return;
      // Refused (a 401) or gone: the job's state says which.
      api<SyncJob>('GET', `/syncs/${encodeURIComponent(job.id)}`).then(
        (state) => {
          setProgress(state.progress);
          if (state.summary) setSummary(state.summary);
          if (state.error) setFailure(state.error.message);
        },
        (caught: unknown) => setFailure(messageOf(caught)),
      );
    });
    return () => stop.abort();
  }, [job.id, credential.id]);

  return (
    <section aria-labelledby="sync-title">
      <h2 id="sync-title" tabIndex={-1}>
        Sync
      </h2>
      <ul className="progress-list" aria-label="Streams">
        {Object.entries(progress).map(([stream, p]) => (
          <li key={stream}>
            <label htmlFor={`progress-${stream}`}>{stream}</label>
            <progress
              id={`progress-${stream}`}
              max={1}
              value={p.status === 'done' || p.status === 'skipped' ? 1 : undefined}
              aria-valuetext={`${p.records} records, ${plural(p.pages, 'page')}, ${p.status}`}
            />
            <span className="progress-text">
              {p.records} records, {plural(p.pages, 'page')}: {p.status}
            </span>
          </li>
        ))}
      </ul>
      <div role="status" className="sync-outcome">
        {summary
          ? `Finished: ${summary.records} records in ${summary.pages} pages (${(summary.ms / 1000).toFixed(1)} s).${rateText(summary)}`
          : failure
            ? ''
            : 'Running...'}
      </div>
      <p className="form-error" role="alert">
        {failure ? `The sync stopped: ${failure}` : ''}
      </p>
      <h3>Credential</h3>
      <CredentialCard tile={tile} />
      <div className="step-buttons">
        <button type="button" className="primary" onClick={onDone}>
          Back to credentials
        </button>
      </div>
    </section>
  );
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/**
 * " 12 requests, 340 a minute: 0.34 of the provider's 1000 a minute." when the provider announced its limit.
 * ofLimit is counted per provider window (src/sync/rate-meter.ts): never above 1 when no request was refused.
 */
function rateText({ rate }: SyncSummary): string {
  if (!rate) return '';
  const limit = rate.limitPerMinute !== undefined ? `: ${rate.ofLimit} of the provider's ${rate.limitPerMinute} a minute` : '';
  return ` ${plural(rate.requests, 'request')}, ${rate.perMinute} a minute${limit}.`;
}
