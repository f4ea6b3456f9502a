// One wording for JSON Schema (ajv) errors in every file kscan validates: checks, frameworks,
// .kscan.yaml, watch config, node evidence.
import type { ErrorObject } from 'ajv';

/** The error's field as a dotted path (exceptions.2.expires), or `root` for the document itself. */
export function schemaErrorPath(error: ErrorObject, root: string): string {
  return error.instancePath ? error.instancePath.slice(1).replace(/\//g, '.') : root;
}

export function describeSchemaError(error: ErrorObject, root: string): string {
  const where = schemaErrorPath(error, root);
  if (error.keyword === 'additionalProperties') return `${where}: unknown field "${(error.params as { additionalProperty: string }).additionalProperty}"`;
  if (error.keyword === 'required') return `${error.instancePath ? where + '.' : ''}${(error.params as { missingProperty: string }).missingProperty} is missing`;
  if (error.keyword === 'enum') return `${where}: must be one of ${(error.params as { allowedValues: string[] }).allowedValues.join(', ')}`;
  return `${where} ${error.message ?? 'is invalid'}`;
}
