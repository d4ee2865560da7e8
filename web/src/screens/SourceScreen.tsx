import { type FormEvent, useState } from 'react';
import { api, ApiError, messageOf } from '../api.js';
import { CredentialCard } from '../components/CredentialCard.js';
import type { ConnectorSummary, CredentialTile, SyncJob } from '../types.js';

type Stream = ConnectorSummary['streams'][number];

/** Whether the credential can read the stream: a stream may need a kind of key (Frontline: USER). */
export function streamAllowed(stream: Stream, tile: CredentialTile): boolean {
  return Object.entries(stream.requiresIdentity ?? {}).every(([key, value]) => String(tile.identity?.[key] ?? '') === value);
}

/** Step 3: the data source (its streams, checked against the credential), a destination, and the sync. */
export function SourceScreen({
  connector,
  credential,
  onStarted,
  onBack,
}: {
  connector: ConnectorSummary;
  credential: CredentialTile;
  onStarted: (job: SyncJob) => void;
  onBack: () => void;
}) {
  const allowed = connector.streams.filter((s) => streamAllowed(s, credential)).map((s) => s.name);
  const [name, setName] = useState(`${connector.title} - ${credential.name}`);
  const [streams, setStreams] = useState<string[]>(allowed);
  const [destinationName, setDestinationName] = useState('Local files');
  const [path, setPath] = useState('');
  const [errors, setErrors] = useState<{ name?: string; streams?: string; path?: string; form?: string }>({});
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ source?: string; destination?: string }>({});

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return setErrors({ name: 'is required' });
    if (streams.length === 0) return setErrors({ streams: 'choose at least one stream' });
    setErrors({});
    setBusy(true);
    let step: 'source' | 'destination' | 'sync' = 'source';
    try {
      const source =
        created.source ??
        (await api<{ id: string }>('POST', '/sources', { name, connector: connector.id, credentialId: credential.id, streams })).id;
      setCreated((c) => ({ ...c, source }));
      step = 'destination';
      const destination =
        created.destination ??
        (
          await api<{ id: string }>('POST', '/destinations', {
            name: destinationName || 'Local files',
            connector: 'jsonl',
            ...(path.trim() ? { path: path.trim() } : {}),
          })
        ).id;
      setCreated((c) => ({ ...c, destination }));
      step = 'sync';
      onStarted(await api<SyncJob>('POST', '/syncs', { source, destination }));
    } catch (caught) {
      const field = caught instanceof ApiError ? caught.field : undefined;
      if (step === 'source' && field === '/streams') setErrors({ streams: messageOf(caught) });
      else if (step === 'source' && field === '/name') setErrors({ name: messageOf(caught) });
      else if (step === 'destination' && field === '/path') setErrors({ path: messageOf(caught) });
      else setErrors({ form: messageOf(caught) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="source-title">
      <h2 id="source-title" tabIndex={-1}>
        Create the data source
      </h2>
      <CredentialCard tile={credential} />
      <form onSubmit={(event) => void submit(event)} noValidate>
        <div className="form-group">
          <label htmlFor="source-name">Source name</label>
          <input
            id="source-name"
            className="form-control"
            value={name}
            onChange={(e) => setName(e.target.value)}
            aria-describedby="source-name-error"
            aria-invalid={errors.name ? true : undefined}
          />
          <p id="source-name-error" className="field-error">
            {errors.name ?? ''}
          </p>
        </div>
        <fieldset aria-describedby="streams-error">
          <legend>Streams</legend>
          {connector.streams.map((stream) => {
            const ok = streamAllowed(stream, credential);
            return (
              <div key={stream.name} className="checkbox">
                <label>
                  <input
                    type="checkbox"
                    checked={streams.includes(stream.name)}
                    disabled={!ok}
                    aria-describedby={ok ? undefined : `stream-${stream.name}-needs`}
                    onChange={(e) => setStreams((all) => (e.target.checked ? [...all, stream.name] : all.filter((s) => s !== stream.name)))}
                  />{' '}
                  {stream.name}
                </label>
                {ok ? null : (
                  <p id={`stream-${stream.name}-needs`} className="help-block">
                    Not with this credential: it needs {stream.requires ?? 'another kind of credential'}.
                  </p>
                )}
              </div>
            );
          })}
          <p id="streams-error" className="field-error">
            {errors.streams ?? ''}
          </p>
        </fieldset>
        <fieldset>
          <legend>Destination: local JSONL files</legend>
          <div className="form-group">
            <label htmlFor="destination-name">Destination name</label>
            <input
              id="destination-name"
              className="form-control"
              value={destinationName}
              onChange={(e) => setDestinationName(e.target.value)}
            />
          </div>
          <div className="form-group">
            <label htmlFor="destination-path">Folder (optional)</label>
            <input
              id="destination-path"
              className="form-control"
              value={path}
              onChange={(e) => setPath(e.target.value)}
              aria-describedby="destination-path-help destination-path-error"
            />
            <p id="destination-path-help" className="help-block">
              One file per stream. Empty: a folder beside credport's store.
            </p>
            <p id="destination-path-error" className="field-error">
              {errors.path ?? ''}
            </p>
          </div>
        </fieldset>
        <p className="form-error" role="alert">
          {errors.form ?? ''}
        </p>
        <div className="step-buttons">
          <button type="button" onClick={onBack}>
            Back
          </button>
          <button type="submit" className="primary" disabled={busy}>
            Create and run sync
          </button>
        </div>
      </form>
    </section>
  );
}
