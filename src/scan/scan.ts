// Glue between stages: collection → inventory → checks → findings → result.
import type { Collection, Finding, InputError, KindCoverage, Severity } from '../model/types.js';
import { SEVERITIES } from '../model/types.js';
import { Inventory } from '../inventory/inventory.js';
import { deriveObjects, derivedCoverage } from '../inventory/derive.js';
import { loadChecks, type Check } from '../checks/loader.js';
import { runChecks, type EngineResult, type Locator } from '../checks/engine.js';
import { checkInFrameworks, resolveFrameworks } from '../checks/frameworks.js';
import { compareFindings, dedupeFindings } from '../findings/finding.js';
import { splitApiVersion } from '../collect/snapshot.js';
import { KSCAN_VERSION } from '../util/version.js';
import { RESULT_SCHEMA_VERSION, type ScanResult, type ScanTarget } from './result.js';

export interface ScanOptions {
  checksDirs?: string[];
  frameworks?: string[];
  target: ScanTarget;
  locator?: Locator;
  startedAt?: Date;
  extensions?: ScanExtension[];
  /** Record each check's evaluation time in result.checks[].durationMs (--profile). */
  profile?: boolean;
  /** Severity per check id, from the config file: replaces the check's own. */
  severityOverrides?: Record<string, Severity>;
}

export function selectChecks(checks: Check[], frameworks: string[]): Check[] {
  return frameworks.length ? checks.filter((check) => checkInFrameworks(check.controls, frameworks)) : checks;
}

/** Coverage for inputs that have no discovery (files): what kinds were read, and how many. */
export function kindsRead(collection: Collection): KindCoverage[] {
  const counts = new Map<string, KindCoverage>();
  for (const { object } of collection.objects) {
    const key = `${object.apiVersion}/${object.kind}`;
    const entry = counts.get(key);
    if (entry) entry.count++;
    else counts.set(key, { ...splitApiVersion(object.apiVersion), kind: object.kind, status: 'collected', count: 1 });
  }
  return [...counts.values()].sort((a, b) => a.group.localeCompare(b.group) || a.kind.localeCompare(b.kind));
}

/**
 * A stage that adds to a scan beyond the object checks: compliance scoring, images, audit logs,
 * RBAC analysis, history. Extensions run in order after the checks; each may add findings (in the
 * canonical model) and its own section of the result, and later extensions see earlier ones' work.
 */
export interface ScanExtension {
  name: string;
  /** Run after every other extension, e.g. compliance scoring, which must see all findings. */
  last?: boolean;
  run(context: ScanContext): Promise<void> | void;
}

export interface ScanContext {
  collection: Collection;
  inventory: Inventory;
  checks: Check[];
  frameworks: string[];
  /** Findings so far; an extension may push its own. */
  findings: Finding[];
  /** The result being built: extensions set their optional sections on it. */
  result: ScanResult;
  /** Objects each check was evaluated on, in all and per namespace. */
  evaluation: Pick<EngineResult, 'evaluated' | 'evaluatedByNamespace'>;
}

export async function scan(collection: Collection, options: ScanOptions): Promise<ScanResult> {
  const startedAt = options.startedAt ?? new Date();
  const frameworks = resolveFrameworks(options.frameworks ?? []);
  const loaded = await loadChecks(options.checksDirs ?? []);
  const checks = selectChecks(withSeverities(loaded.checks, options.severityOverrides, loaded.errors), frameworks);
  // Synthetic objects (ControlPlaneComponent from static pods, src/inventory/derive.ts) join the inventory.
  const derived = deriveObjects(collection.objects);
  const inventory = new Inventory(derived.length ? [...collection.objects, ...derived] : collection.objects);
  const coverageKinds = [...(collection.coverage.kinds.length ? collection.coverage.kinds : kindsRead(collection)), ...derivedCoverage(collection, derived)];
  const { runnable, skipped } = withReadableKinds(checks, coverageKinds);
  const engine = runChecks(inventory, runnable, options.locator);
  engine.errors.push(...skipped);
  const result: ScanResult = {
    schemaVersion: RESULT_SCHEMA_VERSION,
    kscanVersion: KSCAN_VERSION,
    scan: {
      target: options.target,
      collectedAt: collection.collectedAt,
      startedAt: startedAt.toISOString(),
      finishedAt: startedAt.toISOString(),
      durationMs: 0,
      frameworks,
    },
    summary: { objects: inventory.size, checks: checks.length, findings: 0, bySeverity: emptySeverityCounts() },
    coverage: {
      kinds: coverageKinds,
      errors: collection.coverage.errors,
    },
    checks: [],
    findings: [],
    errors: [...loaded.errors, ...engine.errors],
  };
  const context: ScanContext = { collection, inventory, checks, frameworks, findings: engine.findings, result, evaluation: engine };
  const extensions = options.extensions ?? [];
  for (const extension of [...extensions.filter((e) => !e.last), ...extensions.filter((e) => e.last)]) await extension.run(context);

  const findings = dedupeFindings(context.findings).sort(compareFindings);
  const failedByCheck = new Map<string, number>();
  for (const finding of findings) {
    result.summary.bySeverity[finding.severity]++;
    failedByCheck.set(finding.checkId, (failedByCheck.get(finding.checkId) ?? 0) + 1);
  }
  result.findings = findings;
  result.summary.findings = findings.length;
  // Audit rules apply to audit logs: listed only when the audit extension ran them (and alone for `kscan audit`).
  const applied = checks.filter((check) => (check.match.auditEvents ? Boolean(result.audit) : options.target.type !== 'audit'));
  result.summary.checks = applied.length;
  result.checks = applied.map((check) => ({
    id: check.id,
    title: check.title,
    severity: check.severity,
    category: check.category,
    controls: check.controls,
    ...(check.description ? { description: check.description } : {}),
    remediation: check.remediation,
    evaluated: engine.evaluated.get(check.id) ?? 0,
    failed: failedByCheck.get(check.id) ?? 0,
    ...(options.profile ? { durationMs: Math.round((engine.durations.get(check.id) ?? 0) * 1000) / 1000 } : {}),
  }));
  const finishedAt = new Date();
  result.scan.finishedAt = finishedAt.toISOString();
  result.scan.durationMs = finishedAt.getTime() - startedAt.getTime();
  return result;
}

/**
 * A check that reads other kinds through `inventory` (its `reads`) would report false findings when
 * one of them could not be collected ("no NetworkPolicy" when NetworkPolicies were forbidden): such
 * checks are skipped, said so, and the controls they decide come out not evaluated.
 */
export function withReadableKinds(checks: Check[], coverage: KindCoverage[]): { runnable: Check[]; skipped: InputError[] } {
  const uncollected = new Map(coverage.filter((kind) => kind.status !== 'collected').map((kind) => [kind.kind, kind.status]));
  const runnable: Check[] = [];
  const skipped: InputError[] = [];
  for (const check of checks) {
    const missing = (check.reads ?? []).filter((kind) => uncollected.has(kind));
    if (missing.length) skipped.push({ source: check.id, message: `not run: it reads ${missing.map((kind) => `${kind} (${uncollected.get(kind)})`).join(', ')}, which could not be collected`, stage: 'evaluate' });
    else runnable.push(check);
  }
  return { runnable, skipped };
}

/** The config file's severity overrides; an override for a check that does not exist is said so. */
function withSeverities(checks: Check[], overrides: Record<string, Severity> | undefined, errors: InputError[]): Check[] {
  if (!overrides) return checks;
  const known = new Set(checks.map((check) => check.id));
  for (const id of Object.keys(overrides)) if (!known.has(id)) errors.push({ source: 'config severity', message: `severity override for unknown check ${id}`, stage: 'config' });
  return checks.map((check) => (overrides[check.id] ? { ...check, severity: overrides[check.id] } : check));
}

function emptySeverityCounts(): Record<Severity, number> {
  return Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
}
