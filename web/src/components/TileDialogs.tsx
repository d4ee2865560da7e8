import type { RJSFSchema, UiSchema } from '@rjsf/utils';
import { type FormEvent, useId, useMemo, useState } from 'react';
import { api, ApiError, messageOf } from '../api.js';
import { type ConnectorForm, type CredentialTile, secretFields } from '../types.js';
import { CredentialForm } from './CredentialForm.js';
import { Modal } from './Modal.js';

/** Rotate: the connector's secret fields only; the server verifies the new secret before it replaces the old. */
export function RotateDialog({
  tile,
  form,
  onDone,
  onClose,
}: {
  tile: CredentialTile;
  form: ConnectorForm;
  onDone: (tile: CredentialTile) => void;
  onClose: () => void;
}) {
  const { schema, uiSchema } = useMemo(() => secretsOnly(form.form.schema as RJSFSchema, form.form.uiSchema), [form]);
  return (
    <Modal title={`Rotate ${tile.name}`} onClose={onClose}>
      <p className="dialog-intro">The new secret is verified with {form.title} first; the old one stays in use if it is refused.</p>
      <CredentialForm
        connector={`${form.id}#rotate`}
        schema={schema}
        uiSchema={uiSchema}
        submitLabel="Rotate"
        onCancel={onClose}
        onSubmit={async (secrets) =>
          onDone(await api<CredentialTile>('POST', `/credentials/${encodeURIComponent(tile.id)}/rotate`, { secrets }))
        }
      />
    </Modal>
  );
}

function secretsOnly(schema: RJSFSchema, uiSchema: UiSchema): { schema: RJSFSchema; uiSchema: UiSchema } {
  const names = secretFields(schema);
  const properties = Object.fromEntries(names.map((name) => [name, schema.properties![name]!]));
  const required = (schema.required ?? []).filter((name) => names.includes(name));
  return {
    schema: { type: 'object', properties, required, additionalProperties: false },
    uiSchema: { ...Object.fromEntries(names.map((name) => [name, uiSchema[name] ?? {}])), 'ui:title': 'New secret', 'ui:order': names },
  };
}

/** Rename, or change the description: no provider involved. */
export function RenameDialog({
  tile,
  onDone,
  onClose,
}: {
  tile: CredentialTile;
  onDone: (tile: CredentialTile) => void;
  onClose: () => void;
}) {
  const id = useId();
  const [name, setName] = useState(tile.name);
  const [description, setDescription] = useState(tile.description ?? '');
  const [errors, setErrors] = useState<{ name?: string; description?: string; form?: string }>({});
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return setErrors({ name: 'is required' });
    try {
      onDone(await api<CredentialTile>('PATCH', `/credentials/${encodeURIComponent(tile.id)}`, { name, description }));
    } catch (error) {
      const field = error instanceof ApiError ? error.field : undefined;
      if (field === '/name' || field === '/description') setErrors({ [field.slice(1)]: messageOf(error) });
      else setErrors({ form: messageOf(error) });
    }
  };
  return (
    <Modal title={`Rename ${tile.name}`} onClose={onClose}>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <div className="form-group">
          <label htmlFor={`${id}-name`}>Credential Name*</label>
          <input
            id={`${id}-name`}
            className="form-control"
            value={name}
            required
            aria-invalid={errors.name ? true : undefined}
            aria-describedby={`${id}-name-error`}
            onChange={(e) => setName(e.target.value)}
            // biome-ignore lint/a11y/noAutofocus: focus moves into a dialog as it opens (the WAI-ARIA dialog pattern)
            autoFocus
          />
          <p id={`${id}-name-error`} className="field-error">
            {errors.name ?? ''}
          </p>
        </div>
        <div className="form-group">
          <label htmlFor={`${id}-description`}>Credential Description</label>
          <textarea
            id={`${id}-description`}
            className="form-control"
            value={description}
            aria-describedby={`${id}-description-help ${id}-description-error`}
            onChange={(e) => setDescription(e.target.value)}
          />
          <p id={`${id}-description-help`} className="help-block">
            Recommended: what this credential is for and who owns it.
          </p>
          <p id={`${id}-description-error`} className="field-error">
            {errors.description ?? ''}
          </p>
        </div>
        <p className="form-error" role="alert">
          {errors.form ?? ''}
        </p>
        <div className="dialog-buttons">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary">
            Save
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** Delete: refused by the server while a source or destination uses the credential, naming them. */
export function DeleteDialog({ tile, onDone, onClose }: { tile: CredentialTile; onDone: () => void; onClose: () => void }) {
  const [error, setError] = useState('');
  const remove = async () => {
    try {
      await api('DELETE', `/credentials/${encodeURIComponent(tile.id)}`);
      onDone();
    } catch (caught) {
      setError(messageOf(caught));
    }
  };
  return (
    <Modal title={`Delete ${tile.name}?`} onClose={onClose}>
      <p>The sealed secret is erased from the store. Sources and destinations that use it keep it from being deleted.</p>
      <p className="form-error" role="alert">
        {error}
      </p>
      <div className="dialog-buttons">
        {/* biome-ignore lint/a11y/noAutofocus: focus moves into a dialog as it opens (the WAI-ARIA dialog pattern) */}
        <button type="button" onClick={onClose} autoFocus>
          Cancel
        </button>
        <button type="button" className="danger" onClick={() => void remove()}>
          Delete
        </button>
      </div>
    </Modal>
  );
}
