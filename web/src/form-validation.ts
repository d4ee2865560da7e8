import type { RJSFSchema, RJSFValidationError, ValidatorType } from '@rjsf/utils';
import { deepEquals } from '@rjsf/utils';
import createPrecompiledValidator from '@rjsf/validator-ajv8/lib/createPrecompiledValidator.js';
import { precompiled } from '../.generated/validators.js';

/**
 * The browser-side validator of a connector's form. ajv cannot compile in the page (the CSP has no
 * 'unsafe-eval'), so built-in connectors use validators precompiled at build time, and only when
 * the served schema is the very one they were compiled from. Otherwise the form is checked by the
 * server alone, which names the field in its answer.
 */
export function validatorFor(connector: string, schema: RJSFSchema): ValidatorType {
  const entry = precompiled[connector];
  if (entry && deepEquals(entry.schema, schema)) return createPrecompiledValidator(entry.validateFns, schema);
  return serverOnly;
}

/** Accepts everything: the server validates, and its field errors are shown inline. */
const serverOnly: ValidatorType = {
  validateFormData: () => ({ errors: [], errorSchema: {} }),
  isValid: () => true,
  rawValidation: () => ({ errors: [] }),
};

/**
 * ajv reports a pattern failure with the raw regular expression; the schema's `x-pattern-message`
 * says it for people. Labels come from the field's title.
 */
export function transformErrorsFor(schema: RJSFSchema) {
  return (errors: RJSFValidationError[]): RJSFValidationError[] =>
    errors.map((error) => {
      const name = error.property?.replace(/^\./, '') ?? '';
      const property = schema.properties?.[name];
      if (typeof property !== 'object') return error;
      const patternMessage = (property as Record<string, unknown>)['x-pattern-message'];
      if (error.name === 'pattern' && typeof patternMessage === 'string') return { ...error, message: patternMessage };
      if (error.name === 'required') return { ...error, message: 'is required' };
      return error;
    });
}
