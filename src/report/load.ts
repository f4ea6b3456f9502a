// Reading a saved result back (kscan report): it must be a kscan result of a schema version this
// kscan renders, valid against schemas/result.schema.json; anything else is one clear error.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import YAML from 'yaml';
import { RESULT_SCHEMA_VERSION, type ScanResult } from '../scan/result.js';
import { InputFailure, errorMessage } from '../util/errors.js';

const SCHEMA_PATH = fileURLToPath(new URL('../../../schemas/result.schema.json', import.meta.url));
let validator: ValidateFunction | undefined;

function validate(): ValidateFunction {
  // Formats (date-time) are not checked here: a result is data to render, not to trust.
  validator ??= new Ajv({ allErrors: false, strict: false, validateSchema: false, validateFormats: false }).compile(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as object);
  return validator;
}

function major(version: string): string {
  return version.split('.')[0];
}

export function readResultFile(text: string, name: string): ScanResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // JSON.parse does not say where; the YAML parser (JSON is YAML) does.
    const problem = YAML.parseDocument(text).errors[0];
    const where = problem?.linePos ? `:${problem.linePos[0].line}` : '';
    const message = errorMessage(error).split('\n')[0].replace(/, ".*$/, '').replace(/ in JSON at position \d+.*$/, '');
    throw new InputFailure(`${name}${where}: not a kscan result: invalid JSON (${message})`);
  }
  const object = value as Partial<ScanResult> | null;
  if (!object || typeof object !== 'object' || Array.isArray(object) || typeof object.schemaVersion !== 'string' || typeof object.kscanVersion !== 'string') {
    throw new InputFailure(`${name}: not a kscan result (no schemaVersion/kscanVersion; write one with --format json)`);
  }
  if (major(object.schemaVersion) !== major(RESULT_SCHEMA_VERSION)) {
    throw new InputFailure(`${name}: result schema version ${object.schemaVersion} is not supported (this kscan reads ${major(RESULT_SCHEMA_VERSION)}.x)`);
  }
  const check = validate();
  if (!check(object)) {
    const first = check.errors?.[0];
    throw new InputFailure(`${name}: not a valid kscan result: ${first ? `${first.instancePath || '/'} ${first.message}` : 'schema validation failed'}`);
  }
  return object as ScanResult;
}
