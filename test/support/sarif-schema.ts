// Validates SARIF against the official OASIS SARIF 2.1.0 JSON Schema shipped in
// test/fixtures/sarif/ (a JSON Schema 2020-12 document from the oasis-tcs/sarif-spec repository).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const SCHEMA = fileURLToPath(new URL('../../../test/fixtures/sarif/sarif-schema-2.1.0.json', import.meta.url));

/**
 * The schema's language pattern starts with an inline "(?i)" flag, which JavaScript regular
 * expressions do not have: it is turned into the "i" flag, every other pattern is used as written.
 */
function regExp(pattern: string, flags?: string): RegExp {
  return pattern.startsWith('^(?i)') ? new RegExp('^' + pattern.slice(5), (flags ?? '') + 'i') : new RegExp(pattern, flags);
}
regExp.code = 'regExp';

let validate: ReturnType<Ajv2020['compile']> | undefined;

// validateSchema is off because the published schema puts an "anyOf" inside region.properties,
// which the 2020-12 meta-schema rejects; Ajv reads it as a property named "anyOf", which is harmless.
// The 'rejects SARIF the schema forbids' test shows the validator still validates.

export function sarifErrors(sarif: unknown): string[] {
  if (!validate) {
    const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false, validateSchema: false, code: { regExp: regExp as never } }));
    validate = ajv.compile(JSON.parse(readFileSync(SCHEMA, 'utf8')) as object);
  }
  return validate(sarif) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
