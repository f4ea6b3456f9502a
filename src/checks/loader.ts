// Loads checks from YAML, validates them against schemas/check.schema.json and compiles every CEL
// expression once. A bad check is a load error naming its file; it never becomes a finding.
import { access, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { Ajv, type ErrorObject } from 'ajv';
import type { FrameworkControls, InputError, Severity } from '../model/types.js';
import { compileExpression, type CompiledExpression } from './cel.js';
import { describeSchemaError } from '../util/schema-errors.js';
import { errorMessage } from '../util/errors.js';

export const BUILTIN_CHECKS_DIR = fileURLToPath(new URL('../../../checks', import.meta.url));
const SCHEMA_PATH = fileURLToPath(new URL('../../../schemas/check.schema.json', import.meta.url));

/** A check as written in YAML. */
export interface CheckDefinition {
  id: string;
  title: string;
  description?: string;
  severity: Severity;
  category: string;
  match: { workloads?: boolean; kinds?: string[]; namespaces?: string[]; excludeNamespaces?: string[]; auditEvents?: true | AuditEventMatch };
  when?: string;
  forEach?: string;
  assert: string;
  path?: string;
  message: string;
  messageExpression?: string;
  remediation: string;
  controls?: FrameworkControls;
  references?: string[];
  /** Kinds the check reads through the `inventory` variable besides those it matches. */
  reads?: string[];
  /** Audit rules: alert when `count` failing events share the groupBy key within `window`. */
  threshold?: AuditThreshold;
  /** Audit rules: values the expressions see as `params` (allowlists, CIDRs), overridable per run. */
  params?: Record<string, unknown>;
}

/** Cheap pre-filters of an audit rule, applied before any CEL: every list given must contain the event's value. */
export interface AuditEventMatch {
  verbs?: string[];
  /** RBAC-style: "pods", "pods/exec", "*" for any. */
  resources?: string[];
  apiGroups?: string[];
  /** Response codes, e.g. [401, 403]. */
  codes?: number[];
  /** Usernames; a trailing * matches a prefix ("system:serviceaccount:*"). */
  users?: string[];
  /** Top-level event fields that must be present, e.g. impersonatedUser. */
  present?: string[];
}

export interface AuditThreshold {
  count: number;
  /** Duration such as 30s, 5m, 1h. */
  window: string;
  groupBy: ('user' | 'sourceIP' | 'namespace' | 'verb' | 'resource' | 'userAgent')[];
}

export interface Check extends CheckDefinition {
  file: string;
  controls: FrameworkControls;
  compiled: { assert: CompiledExpression; when?: CompiledExpression; message?: CompiledExpression };
  /** Audit rules' fixtures are JSON lines of audit events: <id>.pass.jsonl and <id>.fail.jsonl. */
  fixtures: { pass?: string; fail?: string };
}

export interface LoadResult {
  checks: Check[];
  errors: InputError[];
}

const FIXTURE_SUFFIXES = { pass: '.pass.yaml', fail: '.fail.yaml' } as const;

type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
let validator: Promise<Validator> | undefined;

/**
 * One compiled schema, shared by the files loading at the same time (a promise, so it compiles once).
 * validateSchema: false, here and for kscan's other schemas: checking our own schema against the
 * JSON Schema meta-schema compiled the meta-schema in every Ajv instance, half of each compile
 * (about 90 ms of a kscan manifests start); test/util/schemas.test.ts checks the schemas instead.
 */
function schemaValidator(): Promise<Validator> {
  validator ??= readFile(SCHEMA_PATH, 'utf8').then((text) => new Ajv({ allErrors: true, strict: false, validateSchema: false }).compile(JSON.parse(text) as object) as Validator);
  return validator;
}

/** Framework catalogues (checks/frameworks/) and exception packs (checks/exceptions/) are data of their own, not checks. */
const DATA_SUBDIRS = new Set(['frameworks', 'exceptions']);

async function listYamlFiles(dir: string, top = true): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && top && DATA_SUBDIRS.has(entry.name)) continue;
    if (entry.isDirectory()) out.push(...(await listYamlFiles(full, false)));
    else if (/\.ya?ml$/.test(entry.name)) out.push(full);
  }
  return out;
}

function isFixture(file: string): boolean {
  return file.endsWith(FIXTURE_SUFFIXES.pass) || file.endsWith(FIXTURE_SUFFIXES.fail);
}

export async function loadCheckFile(file: string): Promise<Check> {
  const text = await readFile(file, 'utf8');
  let raw: unknown;
  try {
    raw = yaml.load(text, { filename: file });
  } catch (error) {
    const mark = (error as { mark?: { line: number } }).mark;
    throw new Error(`invalid YAML${mark ? ` at line ${mark.line + 1}` : ''}: ${(error as { reason?: string }).reason ?? errorMessage(error)}`);
  }
  const validate = await schemaValidator();
  if (!validate(raw)) throw new Error((validate.errors ?? []).map((error) => describeSchemaError(error, 'check')).join('; '));
  const definition = raw as CheckDefinition;
  if (!definition.match.workloads && !definition.match.kinds?.length && !definition.match.auditEvents) throw new Error('match: needs workloads: true, a list of kinds, or auditEvents');
  if (definition.threshold && !definition.match.auditEvents) throw new Error('threshold: only audit rules (match.auditEvents) can have one');
  const compile = (field: 'assert' | 'when' | 'messageExpression', source: string): CompiledExpression => {
    try {
      return compileExpression(source);
    } catch (error) {
      throw new Error(`${field}: ${errorMessage(error).split('\n')[0]}`);
    }
  };
  const base = file.replace(/\.ya?ml$/, '');
  const fixtures: Check['fixtures'] = {};
  for (const kind of ['pass', 'fail'] as const) {
    const candidate = base + (definition.match.auditEvents ? FIXTURE_SUFFIXES[kind].replace('.yaml', '.jsonl') : FIXTURE_SUFFIXES[kind]);
    if (await access(candidate).then(() => true, () => false)) fixtures[kind] = candidate;
  }
  return {
    ...definition,
    controls: definition.controls ?? {},
    file,
    compiled: {
      assert: compile('assert', definition.assert),
      when: definition.when ? compile('when', definition.when) : undefined,
      message: definition.messageExpression ? compile('messageExpression', definition.messageExpression) : undefined,
    },
    fixtures,
  };
}

/** Loads the built-in corpus and any custom directories; later directories may not reuse ids. */
export async function loadChecks(customDirs: string[] = [], options: { builtin?: boolean } = {}): Promise<LoadResult> {
  const dirs = options.builtin === false ? customDirs : [BUILTIN_CHECKS_DIR, ...customDirs];
  const checks: Check[] = [];
  const errors: InputError[] = [];
  const seen = new Map<string, string>();
  for (const dir of dirs) {
    let files: string[];
    try {
      files = await listYamlFiles(dir);
    } catch (error) {
      errors.push({ source: dir, message: `cannot read checks directory: ${errorMessage(error)}`, stage: 'load' });
      continue;
    }
    // All files at once: loaded one by one, the file-system round trips left the CPU idle about half
    // of the load (bench: loadChecks 390 -> 190 ms for the built-in corpus). Results keep file order.
    const loaded = await Promise.all(files.filter((f) => !isFixture(f)).map((file) => loadCheckFile(file).then((check) => ({ file, check }), (error: unknown) => ({ file, error }))));
    for (const entry of loaded) {
      const { file } = entry;
      try {
        if ('error' in entry) throw entry.error;
        const { check } = entry;
        const previous = seen.get(check.id);
        if (previous) throw new Error(`duplicate check id ${check.id} (already defined in ${previous})`);
        seen.set(check.id, file);
        checks.push(check);
      } catch (error) {
        errors.push({ source: file, message: errorMessage(error), stage: 'load' });
      }
    }
  }
  checks.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
  return { checks, errors };
}
