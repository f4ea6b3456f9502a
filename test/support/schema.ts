// Validates kscan output against the published JSON Schemas in schemas/.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export function schemaErrors(schemaFile: string, data: unknown): string[] {
  const schema = JSON.parse(readFileSync(new URL(`../../../schemas/${schemaFile}`, import.meta.url), 'utf8')) as object;
  const ajv = addFormats(new Ajv({ allErrors: true, strict: false }));
  const validate = ajv.compile(schema);
  return validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
