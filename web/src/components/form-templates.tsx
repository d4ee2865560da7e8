import { getDefaultRegistry } from '@rjsf/core';
import { ariaDescribedByIds, type BaseInputTemplateProps, errorId, type FieldErrorProps, type WidgetProps } from '@rjsf/utils';
import type { ChangeEvent } from 'react';

/**
 * What react-jsonschema-form's own templates leave out for people using a screen reader: a field
 * with an error says so (aria-invalid), and a field's errors sit in a polite live region, so a
 * refusal that arrives later (the provider's, in its own words) is announced where it is shown,
 * without a second copy of the text elsewhere.
 */
const defaults = getDefaultRegistry().templates;

/** Every <input> widget (text, password, url...): rjsf's own, with aria-invalid while the field has an error. */
function BaseInputTemplate(props: BaseInputTemplateProps) {
  const Base = defaults.BaseInputTemplate;
  // rjsf passes props it does not know on to the <input>.
  return <Base {...props} aria-invalid={props.rawErrors?.length ? true : undefined} />;
}

/** rjsf's textarea widget (it passes no extra props on), with aria-invalid. */
function TextareaWidget({
  id,
  options,
  placeholder,
  value,
  required,
  disabled,
  readonly,
  autofocus,
  onChange,
  onBlur,
  onFocus,
  htmlName,
  rawErrors,
}: WidgetProps) {
  const emptyValue = options.emptyValue;
  return (
    <textarea
      id={id}
      name={htmlName || id}
      className="form-control"
      value={typeof value === 'string' ? value : ''}
      placeholder={placeholder}
      required={required}
      disabled={disabled}
      readOnly={readonly}
      // biome-ignore lint/a11y/noAutofocus: only where the connector's uiSchema asks for it (the dialog's first field)
      autoFocus={autofocus}
      rows={options.rows}
      aria-invalid={rawErrors?.length ? true : undefined}
      aria-describedby={ariaDescribedByIds(id)}
      onChange={(event: ChangeEvent<HTMLTextAreaElement>) => onChange(event.target.value === '' ? emptyValue : event.target.value)}
      onBlur={(event) => onBlur(id, event.target.value)}
      onFocus={(event) => onFocus(id, event.target.value)}
    />
  );
}

/** A field's errors, always inside a live region (present before any error, as screen readers need). */
function FieldErrorTemplate({ errors = [], fieldPathId }: FieldErrorProps) {
  const shown = errors.filter((error) => !!error);
  return (
    <div role="status" className="field-errors">
      {shown.length > 0 ? (
        <ul id={errorId(fieldPathId)} className="error-detail">
          {shown.map((error, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: rjsf's errors have no identity but their order
            <li key={index} className="text-danger">
              {error}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

export const accessibleTemplates = { BaseInputTemplate, FieldErrorTemplate };
export const accessibleWidgets = { TextareaWidget };
