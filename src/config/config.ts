// The configuration file (.kscan.yaml, or --config): defaults for the scanning commands, severity
// overrides, exceptions and image settings, validated against schemas/config.schema.json. Errors
// name the file, the line and the field; flags given on the command line win over the file.
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import YAML, { LineCounter, isNode } from 'yaml';
import type { InputError, Severity } from '../model/types.js';
import { InputFailure, errorMessage } from '../util/errors.js';
import { describeSchemaError, schemaErrorPath } from '../util/schema-errors.js';
import { isCalendarDate } from '../util/calendar-date.js';

const SCHEMA_PATH = fileURLToPath(new URL('../../../schemas/config.schema.json', import.meta.url));
export const DEFAULT_CONFIG_FILE = '.kscan.yaml';

export interface ExceptionRule {
  name?: string;
  checks: string[];
  namespaces?: string[];
  kinds?: string[];
  names?: string[];
  labels?: Record<string, string>;
  reason: string;
  owner?: string;
  /** YYYY-MM-DD: from this day on the exception no longer applies. */
  expires?: string;
  /** file:line where it was written, for reports and errors. */
  source: string;
  /** The kscan exception pack it comes from (checks/exceptions/<pack>.yaml). */
  pack?: string;
}

export interface KscanConfig {
  formats?: string[];
  outputDir?: string;
  frameworks?: string[];
  failOn?: Severity | 'none';
  checksDirs?: string[];
  severity?: Record<string, Severity>;
  defaultExceptions?: boolean;
  exceptions?: ExceptionRule[];
  images?: { results?: string[]; trivy?: string; ignoreFile?: string; baseCatalogue?: string; latestOnly?: boolean };
  /** kscan watch settings, validated by watch mode (src/watch/config.ts). */
  watch?: Record<string, unknown>;
}

export interface LoadedConfig {
  file: string;
  config: KscanConfig;
  /** Problems that do not stop a scan (an exception without owner or expiry). */
  warnings: InputError[];
}

let validator: ValidateFunction | undefined;

function validate(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, strict: false, validateSchema: false }).compile(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as object);
  return validator;
}

/**
 * Reads --config, or .kscan.yaml in the working directory when it exists. A file given by flag
 * must exist; an invalid file of either kind is an InputFailure naming file:line and the field.
 */
export async function loadConfig(file: string | undefined, cwd = process.cwd()): Promise<LoadedConfig | undefined> {
  const chosen = file ?? path.join(cwd, DEFAULT_CONFIG_FILE);
  const exists = await stat(chosen).then((s) => s.isFile(), () => false);
  if (!exists) {
    if (file) throw new InputFailure(`config file not found: ${file}`);
    return undefined;
  }
  const display = file ?? DEFAULT_CONFIG_FILE;
  let text: string;
  try {
    text = await readFile(chosen, 'utf8');
  } catch (error) {
    throw new InputFailure(`${display}: cannot read config file (${errorMessage(error)})`);
  }
  return parseConfig(text, display, path.dirname(chosen));
}

export function parseConfig(text: string, display: string, baseDir: string): LoadedConfig {
  const lineCounter = new LineCounter();
  // YAML 1.2 core schema: `expires: 2027-03-31` stays a string, `on` stays a string.
  const document = YAML.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length) {
    const [problem] = document.errors;
    throw new InputFailure(`${display}:${problem.linePos?.[0].line ?? 1}: invalid YAML: ${problem.message.split('\n')[0]}`);
  }
  const value = (document.toJS() ?? {}) as unknown;
  const lineOf = (dotted: string): number => {
    const keys = dotted ? dotted.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)) : [];
    for (let length = keys.length; length >= 0; length--) {
      const node = document.getIn(keys.slice(0, length), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return 1;
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputFailure(`${display}:1: a config file is a mapping of settings (see schemas/config.schema.json)`);
  const check = validate();
  if (!check(value)) {
    const [first, ...rest] = check.errors ?? [];
    const where = schemaErrorPath(first, '');
    throw new InputFailure(`${display}:${lineOf(where)}: ${describeSchemaError(first, 'config')}${rest.length ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : ''}`);
  }
  const config = value as KscanConfig;
  const warnings: InputError[] = [];
  config.exceptions = (config.exceptions ?? []).map((rule, index) => {
    const field = `exceptions.${index}`;
    const source = `${display}:${lineOf(field)}`;
    if (rule.expires !== undefined && !isCalendarDate(String(rule.expires))) {
      throw new InputFailure(`${display}:${lineOf(`${field}.expires`)}: ${field}.expires: "${rule.expires}" is not a date (YYYY-MM-DD)`);
    }
    const label = rule.name ?? rule.checks.join(',');
    if (!rule.owner) warnings.push({ source, message: `exception ${label} has no owner: say who accepted the risk`, stage: 'config' as const });
    if (!rule.expires) warnings.push({ source, message: `exception ${label} has no expiry date: it will apply for ever`, stage: 'config' as const });
    return { ...rule, source };
  });
  // Paths in the file are relative to the file, as users expect from .kscan.yaml in a repository.
  const resolve = (p: string) => path.resolve(baseDir, p);
  if (config.checksDirs) config.checksDirs = config.checksDirs.map(resolve);
  if (config.images?.results) config.images.results = config.images.results.map(resolve);
  for (const key of ['ignoreFile', 'baseCatalogue'] as const) if (config.images?.[key]) config.images[key] = resolve(config.images[key]!);
  return { file: display, config, warnings };
}
