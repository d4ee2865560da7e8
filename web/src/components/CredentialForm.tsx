import Form from '@rjsf/core';
import type { ErrorSchema, RJSFSchema, UiSchema } from '@rjsf/utils';
import { type ReactNode, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, messageOf } from '../api.js';
import { transformErrorsFor, validatorFor } from '../form-validation.js';
import { formFieldOf, secretFields } from '../types.js';
import { accessibleTemplates, accessibleWidgets } from './form-templates.js';

type Values = Record<string, unknown>;

/**
 * A connector's form rendered by react-jsonschema-form, with what every credential form needs:
 * secret inputs that no browser offers to remember, browser-side validation before anything is
 * sent, the server's refusals shown on the field they name (a provider's on the secret's), and the
 * secret fields emptied after every attempt, so the page never holds a secret longer than the
 * request that carried it. After a refusal the focus goes to the field it names (or to the submit
 * button): the inputs were disabled while the request ran, which drops the focus to the page body.
 */
export function CredentialForm({
  connector,
  schema,
  uiSchema,
  submitLabel,
  onSubmit,
  onCancel,
  extraFields,
  onServerField,
  initial,
}: {
  connector: string;
  schema: RJSFSchema;
  uiSchema: UiSchema;
  submitLabel: string;
  /** Sends the values; throws ApiError on a refusal. */
  onSubmit: (values: Values) => Promise<void>;
  onCancel: () => void;
  /** Rendered inside the form, before the buttons (the Advanced disclosure). */
  extraFields?: ReactNode;
  /** A refusal naming a field outside `values` (baseUrl): true when the caller showed it. */
  onServerField?: (pointer: string, message: string) => boolean;
  initial?: Values;
}) {
  const secrets = useMemo(() => secretFields(schema), [schema]);
  const validator = useMemo(() => validatorFor(connector, schema), [connector, schema]);
  const transformErrors = useMemo(() => transformErrorsFor(schema), [schema]);
  const ui = useMemo(() => secretUi(uiSchema, secrets), [uiSchema, secrets]);
  const [values, setValues] = useState<Values>(initial ?? {});
  const [extraErrors, setExtraErrors] = useState<ErrorSchema | undefined>();
  const [formError, setFormError] = useState('');
  const [busy, setBusy] = useState(false);
  // Where the focus goes once the form is enabled again after a refusal: a field's name, or 'submit'.
  const [refocus, setRefocus] = useState<string | undefined>();
  const formRef = useRef<Form>(null);

  useEffect(() => {
    if (busy || !refocus) return;
    const form = formRef.current?.formElement.current as HTMLFormElement | null | undefined;
    const target =
      refocus === 'submit'
        ? form?.querySelector<HTMLElement>('button[type="submit"]')
        : form?.querySelector<HTMLElement>(`[id="root_${CSS.escape(refocus)}"]`);
    target?.focus();
    setRefocus(undefined);
  }, [busy, refocus]);

  const submit = async (submitted: Values) => {
    setBusy(true);
    setFormError('');
    setExtraErrors(undefined);
    setRefocus(undefined);
    try {
      await onSubmit(submitted);
    } catch (error) {
      showRefusal(error);
    } finally {
      // Saved or refused, the secret leaves the page: the user pastes it again to retry.
      setValues(withoutSecrets(submitted, secrets));
      setBusy(false);
    }
  };

  const showRefusal = (error: unknown) => {
    const onField = (name: string, message: string) => {
      setExtraErrors({ [name]: { __errors: [message] } } as ErrorSchema);
      setRefocus(name);
    };
    if (!(error instanceof ApiError)) {
      setFormError(messageOf(error));
      return setRefocus('submit');
    }
    // In words for a person: a provider's refusal without the request line the API's detail adds.
    const said = error.problem.providerMessage ?? error.message;
    const field = formFieldOf(error.field, 'values') ?? formFieldOf(error.field, 'secrets');
    if (field && schema.properties?.[field]) return onField(field, said);
    // The caller shows it on its own field and moves the focus there.
    if (error.field && onServerField?.(error.field, said)) return;
    // The provider refused the credential: that is the secret's error, in the provider's words.
    if (error.status === 422 && secrets[0]) return onField(secrets[0], said);
    setFormError(said);
    setRefocus('submit');
  };

  return (
    <Form
      ref={formRef}
      schema={schema}
      uiSchema={ui}
      validator={validator}
      templates={accessibleTemplates}
      widgets={accessibleWidgets}
      formData={values}
      onChange={(event, id) => {
        setValues((event.formData ?? {}) as Values);
        // Editing a field clears the server's error on it.
        const field = id?.replace(/^root_/, '');
        if (field && extraErrors && field in extraErrors) setExtraErrors(undefined);
      }}
      onSubmit={(event) => void submit((event.formData ?? {}) as Values)}
      transformErrors={transformErrors}
      // The errors are shown on their fields; rjsf would also log them to the console.
      onError={() => undefined}
      extraErrors={extraErrors}
      showErrorList={false}
      noHtml5Validate
      focusOnFirstError
      disabled={busy}
    >
      {extraFields}
      <p className="form-error" role="alert">
        {formError}
      </p>
      <div className="dialog-buttons">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Verifying...' : submitLabel}
        </button>
      </div>
    </Form>
  );
}

/** Secret inputs are password inputs that the browser neither fills in nor offers to save. */
function secretUi(uiSchema: UiSchema, secrets: string[]): UiSchema {
  const ui: UiSchema = { ...uiSchema };
  for (const name of secrets)
    ui[name] = { ...(uiSchema[name] as object | undefined), 'ui:widget': 'password', 'ui:autocomplete': 'new-password' };
  return ui;
}

function withoutSecrets(values: Values, secrets: string[]): Values {
  const rest = { ...values };
  for (const name of secrets) delete rest[name];
  return rest;
}
