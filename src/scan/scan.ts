// Glue between stages: collection → inventory → checks → findings → result.
import type { Collection, Finding, KindCoverage, Severity } from '../model/types.js';
import { SEVERITIES } from '../model/types.js';
import { Inventory } from '../inventory/inventory.js';
import { loadChecks, type Check } from '../checks/loader.js';
import { runChecks, type Locator } from '../checks/engine.js';
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
}

export async function scan(collection: Collection, options: ScanOptions): Promise<ScanResult> {
  const startedAt = options.startedAt ?? new Date();
  const frameworks = resolveFrameworks(options.frameworks ?? []);
  const loaded = await loadChecks(options.checksDirs ?? []);
  const checks = selectChecks(loaded.checks, frameworks);
  const inventory = new Inventory(collection.objects);
  const engine = runChecks(inventory, checks, options.locator);
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
      kinds: collection.coverage.kinds.length ? collection.coverage.kinds : kindsRead(collection),
      errors: collection.coverage.errors,
    },
    checks: [],
    findings: [],
    errors: [...loaded.errors, ...engine.errors],
  };
  const context: ScanContext = { collection, inventory, checks, frameworks, findings: engine.findings, result };
  for (const extension of options.extensions ?? []) await extension.run(context);

  const findings = dedupeFindings(context.findings).sort(compareFindings);
  const failedByCheck = new Map<string, number>();
  for (const finding of findings) {
    result.summary.bySeverity[finding.severity]++;
    failedByCheck.set(finding.checkId, (failedByCheck.get(finding.checkId) ?? 0) + 1);
  }
  result.findings = findings;
  result.summary.findings = findings.length;
  result.checks = checks.map((check) => ({
    id: check.id,
    title: check.title,
    severity: check.severity,
    category: check.category,
    controls: check.controls,
    evaluated: engine.evaluated.get(check.id) ?? 0,
    failed: failedByCheck.get(check.id) ?? 0,
  }));
  const finishedAt = new Date();
  result.scan.finishedAt = finishedAt.toISOString();
  result.scan.durationMs = finishedAt.getTime() - startedAt.getTime();
  return result;
}

function emptySeverityCounts(): Record<Severity, number> {
  return Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
}
