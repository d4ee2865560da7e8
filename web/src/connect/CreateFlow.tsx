import { Suspense, useEffect, useState } from 'react';
import type { ConnectorForm, CredentialTile } from '../types.js';
import { type Failure, failureOf } from './failure.js';
import { AddCredentialDialog, loadForm } from './forms.js';

/** Create mode: the Add New Credential overlay at once, prefilled with the session's name and description. */
export function CreateFlow({
  connector,
  prefill,
  onCreated,
  onCancel,
  onFailure,
}: {
  connector: string;
  prefill: { name?: string; description?: string } | undefined;
  onCreated: (tile: CredentialTile) => void;
  onCancel: () => void;
  onFailure: (failure: Failure) => void;
}) {
  const [form, setForm] = useState<ConnectorForm | undefined>();
  useEffect(() => {
    loadForm(connector, 'add').then(setForm, (error: unknown) => onFailure(failureOf(error)));
  }, [connector, onFailure]);
  const loading = <p role="status">Loading the form...</p>;
  if (!form) return loading;
  return (
    <Suspense fallback={loading}>
      <AddCredentialDialog form={form} prefill={prefill} onSaved={onCreated} onClose={onCancel} />
    </Suspense>
  );
}
