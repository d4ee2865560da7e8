import { lazy } from 'react';
import { api } from '../api.js';
import type { ConnectorForm } from '../types.js';

// The form renderer (react-jsonschema-form and the precompiled validators) is in these chunks only,
// fetched when an overlay opens: a pick session's tiles need React and the tile screen alone.
const addDialog = () => import('../components/AddCredentialDialog.js');
const tileDialogs = () => import('../components/TileDialogs.js');

export const AddCredentialDialog = lazy(() => addDialog().then((m) => ({ default: m.AddCredentialDialog })));
export const RotateDialog = lazy(() => tileDialogs().then((m) => ({ default: m.RotateDialog })));

const forms = new Map<string, Promise<ConnectorForm>>();

/**
 * A connector's form as the server serves it to this session (`baseUrlField` says whether the
 * Advanced Base URL shows), fetched once; the overlay's code is fetched at the same time.
 */
export function loadForm(connector: string, overlay: 'add' | 'rotate'): Promise<ConnectorForm> {
  void (overlay === 'add' ? addDialog() : tileDialogs()).catch(() => undefined);
  let form = forms.get(connector);
  if (!form) {
    form = api<ConnectorForm>('GET', `/connectors/${encodeURIComponent(connector)}/form`);
    // A failed fetch is not kept: the next try asks again.
    form.catch(() => forms.delete(connector));
    forms.set(connector, form);
  }
  return form;
}
