import { Suspense, useEffect, useState } from 'react';
import { api, messageOf } from '../api.js';
import { CredentialCard } from '../components/CredentialCard.js';
import type { ConnectorForm, CredentialTile } from '../types.js';
import { type Failure, failureOf } from './failure.js';
import { AddCredentialDialog, loadForm } from './forms.js';

/**
 * Pick mode: the end user's tiles of the connector and an Add Credential tile. Choosing a tile
 * records the session's outcome (POST /connect/selection) and hands the host that tile; adding one
 * opens the overlay (its code fetched then) and hands the host the new tile.
 */
export function PickScreen({
  connector,
  prefill,
  onSelected,
  onCreated,
  onCancel,
  onFailure,
}: {
  connector: string;
  prefill: { name?: string; description?: string } | undefined;
  onSelected: (tile: CredentialTile) => void;
  onCreated: (tile: CredentialTile) => void;
  onCancel: () => void;
  onFailure: (failure: Failure) => void;
}) {
  const [tiles, setTiles] = useState<CredentialTile[] | undefined>();
  const [selected, setSelected] = useState<string | undefined>();
  const [adding, setAdding] = useState<ConnectorForm | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  useEffect(() => {
    api<CredentialTile[]>('GET', `/credentials?connector=${encodeURIComponent(connector)}`).then(setTiles, (caught: unknown) =>
      onFailure(failureOf(caught)),
    );
  }, [connector, onFailure]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: once, when the tiles first show
  useEffect(() => {
    document.querySelector<HTMLElement>('#pick-title')?.focus();
  }, [tiles === undefined]);

  const add = async () => {
    setError('');
    try {
      setAdding(await loadForm(connector, 'add'));
    } catch (caught) {
      setError(messageOf(caught));
    }
  };
  const choose = async (tile: CredentialTile) => {
    setBusy(true);
    setError('');
    try {
      onSelected(await api<CredentialTile>('POST', '/connect/selection', { credentialId: tile.id }));
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };

  const chosen = tiles?.find((t) => t.id === selected);
  return (
    <section aria-labelledby="pick-title">
      <h2 id="pick-title" tabIndex={-1}>
        Choose a credential
      </h2>
      <p className="form-error" role="alert">
        {error}
      </p>
      {tiles === undefined ? (
        <p role="status">Loading the credentials...</p>
      ) : (
        <ul className="tiles" aria-label="Credentials">
          {tiles.map((tile) => (
            <li key={tile.id}>
              <CredentialCard tile={tile} select={{ checked: selected === tile.id, onSelect: () => setSelected(tile.id) }} />
            </li>
          ))}
          <li>
            <button type="button" className="tile add-tile" onClick={() => void add()}>
              <span aria-hidden="true">+</span> Add Credential
            </button>
          </li>
        </ul>
      )}
      <div className="step-buttons">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="primary" disabled={!chosen || busy} onClick={() => chosen && void choose(chosen)}>
          Use this credential
        </button>
      </div>
      {adding ? (
        <Suspense fallback={<p role="status">Loading the form...</p>}>
          <AddCredentialDialog form={adding} prefill={prefill} onSaved={onCreated} onClose={() => setAdding(undefined)} />
        </Suspense>
      ) : null}
    </section>
  );
}
