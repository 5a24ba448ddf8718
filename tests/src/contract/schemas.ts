import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// The validation code shared by the contract tests: JSON Schema 2020-12 (what zod 4 emits into docs/) against the
// components of a generated document — docs/openapi.json for HTTP answers, docs/asyncapi.json for socket events.

/** A generated document with JSON Schema components (OpenAPI 3.1 or AsyncAPI 3). */
export interface SchemaDocument {
  readonly components: { readonly schemas: Record<string, unknown> };
}

/** Validates values against schemas that may `$ref` the document's `#/components/schemas/…`. */
export interface SchemaValidator {
  /** The problems of `value` against `schema` (a fragment of the document, or a `$ref` into it); [] when valid. */
  problems(schema: unknown, value: unknown): string[];
}

// ajv-formats is CommonJS; its default export arrives wrapped or not depending on the loader.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => Ajv2020;

/** A validator over one document: `$ref: '#/components/…'` in any fragment resolves against it. */
export function schemaValidator(doc: SchemaDocument): SchemaValidator {
  const ajv = new Ajv2020({ strict: false, allErrors: true, unicodeRegExp: false, validateFormats: true });
  addFormats(ajv);
  const base = 'cpn:contract';
  ajv.addSchema({ $id: base, components: doc.components }, base);
  const compiled = new Map<string, ValidateFunction>();
  const rebase = (schema: unknown): unknown =>
    JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', `"${base}#/components/`));
  return {
    problems(schema, value) {
      const key = JSON.stringify(schema);
      let validate = compiled.get(key);
      if (!validate) {
        validate = ajv.compile(rebase(schema) as object);
        compiled.set(key, validate);
      }
      if (validate(value)) return [];
      return (validate.errors ?? []).map(
        (e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
      );
    },
  };
}
