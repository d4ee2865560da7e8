import { Suspense, useEffect, useState } from 'react';
import { api } from '../api.js';
import type { ConnectorForm, CredentialTile } from '../types.js';
import { type Failure, failureOf } from './failure.js';
import { loadForm, RotateDialog } from './forms.js';

/**
 * Reconnect mode: the overlay for the session's credential's secret only. The new secret is
 * verified with the provider, then swapped in place (POST /credentials/{id}/rotate): same id, so
 * its sources and destinations keep working.
 */
export function ReconnectFlow({
  credentialId,
  onReconnected,
  onCancel,
  onFailure,
}: {
  credentialId: string;
  onReconnected: (tile: CredentialTile) => void;
  onCancel: () => void;
  onFailure: (failure: Failure) => void;
}) {
  const [ready, setReady] = useState<{ tile: CredentialTile; form: ConnectorForm } | undefined>();
  useEffect(() => {
    (async () => {
      const tiles = await api<CredentialTile[]>('GET', '/credentials');
      const tile = tiles.find((t) => t.id === credentialId);
      if (!tile) return onFailure({ code: 'not_found', status: 404, detail: 'The credential to reconnect is not there any more.' });
      setReady({ tile, form: await loadForm(tile.connector, 'rotate') });
    })().catch((error: unknown) => onFailure(failureOf(error)));
  }, [credentialId, onFailure]);
  const loading = <p role="status">Loading the form...</p>;
  if (!ready) return loading;
  return (
    <Suspense fallback={loading}>
      <RotateDialog tile={ready.tile} form={ready.form} onDone={onReconnected} onClose={onCancel} />
    </Suspense>
  );
}
