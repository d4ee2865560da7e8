import type { RJSFSchema } from '@rjsf/utils';
import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { api } from '../api.js';
import type { ConnectorForm, CredentialTile, DemoProvider } from '../types.js';
import { CredentialForm } from './CredentialForm.js';
import { Modal } from './Modal.js';

/**
 * The "Add New Credential" overlay: the connector's form exactly as the API serves it, plus an
 * Advanced "Base URL" (another origin of the provider: an emulator, a proxy, a tenant's own domain),
 * sent beside the values, when the server says this caller may set one (`baseUrlField`). Save asks
 * the server, which validates, verifies with the provider, seals and saves; nothing is kept in the
 * page after it.
 */
export function AddCredentialDialog({
  form,
  demo,
  prefill,
  onSaved,
  onClose,
}: {
  form: ConnectorForm;
  demo?: DemoProvider | undefined;
  /** What the form starts with (a connect session's name and description). */
  prefill?: Record<string, unknown> | undefined;
  onSaved: (tile: CredentialTile) => void;
  onClose: () => void;
}) {
  const baseUrlId = useId();
  const [baseUrl, setBaseUrl] = useState(demo?.baseUrl ?? '');
  const [baseUrlError, setBaseUrlError] = useState('');
  const baseUrlInput = useRef<HTMLInputElement>(null);
  // A refusal of the Base URL takes the focus there (the form's own fields are CredentialForm's).
  useEffect(() => {
    if (baseUrlError) baseUrlInput.current?.focus();
  }, [baseUrlError]);
  const [advancedOpen, setAdvancedOpen] = useState(demo !== undefined);
  const [fill, setFill] = useState(0);
  const uiSchema = useMemo(() => ({ ...form.form.uiSchema, 'ui:title': `${form.title} credential` }), [form]);

  const save = async (values: Record<string, unknown>) => {
    setBaseUrlError('');
    const trimmed = baseUrl.trim();
    const tile = await api<CredentialTile>('POST', '/credentials', {
      connector: form.id,
      values,
      ...(trimmed ? { baseUrl: trimmed } : {}),
    });
    onSaved(tile);
  };

  const advanced = (
    <details className="advanced" open={advancedOpen} onToggle={(event) => setAdvancedOpen(event.currentTarget.open)}>
      <summary>Advanced</summary>
      <div className="form-group field">
        <label className="control-label" htmlFor={baseUrlId}>
          Base URL
        </label>
        <input
          ref={baseUrlInput}
          id={baseUrlId}
          className="form-control"
          type="url"
          inputMode="url"
          autoComplete="off"
          placeholder={`Leave empty for ${form.title} itself`}
          value={baseUrl}
          aria-invalid={baseUrlError ? true : undefined}
          aria-describedby={`${baseUrlId}-help ${baseUrlId}-error`}
          onChange={(event) => {
            setBaseUrl(event.target.value);
            setBaseUrlError('');
          }}
        />
        <p id={`${baseUrlId}-help`} className="help-block">
          Only if {form.title} gave you another address for your account: your own domain, a proxy or a test server.
        </p>
        <div role="status">
          <p id={`${baseUrlId}-error`} className="field-error">
            {baseUrlError}
          </p>
        </div>
      </div>
    </details>
  );

  return (
    <Modal title="Add New Credential" onClose={onClose} wide>
      {form.docs ? (
        <p className="dialog-intro">
          Where to find it:{' '}
          <a href={form.docs} target="_blank" rel="noopener noreferrer">
            {form.title} documentation
          </a>
        </p>
      ) : null}
      {demo ? <DemoValues demo={demo} onFill={() => setFill((n) => n + 1)} /> : null}
      <CredentialForm
        key={fill}
        connector={form.id}
        schema={form.form.schema as RJSFSchema}
        uiSchema={uiSchema}
        submitLabel="Save"
        onSubmit={save}
        onCancel={onClose}
        extraFields={form.baseUrlField === false ? undefined : advanced}
        initial={fill > 0 && demo ? { name: `${form.title} demo`, ...demo.values } : prefill}
        onServerField={(pointer, message) => {
          if (pointer !== '/baseUrl') return false;
          setAdvancedOpen(true);
          setBaseUrlError(message);
          return true;
        }}
      />
    </Modal>
  );
}

/** `serve --demo`: the emulator's test values, which belong to no account anywhere. */
function DemoValues({ demo, onFill }: { demo: DemoProvider; onFill: () => void }) {
  return (
    <section className="demo" aria-label="Demo values">
      <p>
        <strong>Demo mode.</strong> {demo.note}. The Base URL below points at it; its test values:
      </p>
      <dl>
        {Object.entries(demo.values).map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd>
              <code>{value}</code>
            </dd>
          </div>
        ))}
      </dl>
      <button type="button" onClick={onFill}>
        Fill in the test values
      </button>
    </section>
  );
}
