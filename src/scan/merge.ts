// One result over several clusters (kscan cluster --context a --context b, --all-contexts, and
// kscan report merge): every finding keeps its cluster, compliance is decided across clusters
// (a control fails when it fails anywhere), and a Clusters section compares them side by side.
// The merged result is an ordinary ScanResult, so every report format renders it.
import { createHash } from 'node:crypto';
import type { Finding, InputError, KindCoverage, Severity } from '../model/types.js';
import { SEVERITIES } from '../model/types.js';
import { compareFindings } from '../findings/finding.js';
import { scoreOf } from '../score/compliance.js';
import { formatPercent } from '../report/common.js';
import { RESULT_SCHEMA_VERSION, type CheckSummary, type ControlResult, type ControlStatus, type FrameworkResult, type ReportSection, type ScanResult } from './result.js';

/** Across clusters the worst status wins: one failing cluster fails the control. */
const STATUS_ORDER: ControlStatus[] = ['fail', 'not-evaluated', 'pass', 'manual', 'provider', 'not-applicable'];

function uniqueNames(results: ScanResult[]): string[] {
  const seen = new Map<string, number>();
  return results.map((result) => {
    const base = result.scan.target.name || 'cluster';
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}#${n}`;
  });
}

/** A cluster's finding, told apart from the same finding in another cluster. */
function inCluster(finding: Finding, cluster: string): Finding {
  const fingerprint = createHash('sha256').update(`${cluster}\u0000${finding.fingerprint}`).digest('hex').slice(0, 32);
  return { ...finding, fingerprint, object: { ...finding.object, cluster } };
}

function mergeCoverage(results: ScanResult[], names: string[]): ScanResult['coverage'] {
  const kinds = new Map<string, KindCoverage>();
  const errors: InputError[] = [];
  results.forEach((result, i) => {
    for (const kind of result.coverage.kinds) {
      const key = `${kind.group}/${kind.kind}`;
      const previous = kinds.get(key);
      // A kind is collected only where every cluster collected it; otherwise the first cluster that could not says why.
      const failed = kind.status !== 'collected';
      const entry: KindCoverage = { ...kind, count: (previous?.count ?? 0) + kind.count, ...(failed && kind.error ? { error: `${names[i]}: ${kind.error}` } : {}) };
      if (!previous || (failed && previous.status === 'collected')) kinds.set(key, entry);
      else previous.count = entry.count;
    }
    errors.push(...result.coverage.errors.map((error) => ({ ...error, source: `${names[i]}: ${error.source}` })));
  });
  return { kinds: [...kinds.values()], errors };
}

function mergeChecks(results: ScanResult[]): CheckSummary[] {
  const checks = new Map<string, CheckSummary>();
  for (const result of results) {
    for (const check of result.checks) {
      const previous = checks.get(check.id);
      if (!previous) checks.set(check.id, { ...check });
      else {
        previous.evaluated += check.evaluated;
        previous.failed += check.failed;
      }
    }
  }
  return [...checks.values()];
}

function mergeCompliance(results: ScanResult[], names: string[]): FrameworkResult[] {
  const frameworks = new Map<string, FrameworkResult>();
  results.forEach((result, i) => {
    for (const framework of result.compliance ?? []) {
      const merged = frameworks.get(framework.id);
      if (!merged) {
        frameworks.set(framework.id, {
          ...framework,
          controls: framework.controls.map((control) => ({ ...control, ...(control.reason ? { reason: `${names[i]}: ${control.reason}` } : {}) })),
          namespaces: framework.namespaces.map((entry) => ({ ...entry, namespace: `${names[i]}/${entry.namespace}` })),
        });
        continue;
      }
      const byId = new Map(framework.controls.map((control) => [control.id, control]));
      merged.controls = merged.controls.map((control): ControlResult => {
        const other = byId.get(control.id);
        if (!other) return control;
        const worse = STATUS_ORDER.indexOf(other.status) < STATUS_ORDER.indexOf(control.status);
        const findings = control.findings + other.findings;
        const objects = (control.objects ?? 0) + (other.objects ?? 0);
        const reason = worse && other.reason ? `${names[i]}: ${other.reason}` : control.reason;
        return { ...control, status: worse ? other.status : control.status, findings, ...(objects ? { objects } : {}), ...(reason ? { reason } : {}) };
      });
      merged.namespaces.push(...framework.namespaces.map((entry) => ({ ...entry, namespace: `${names[i]}/${entry.namespace}` })));
    }
  });
  for (const framework of frameworks.values()) {
    framework.score = scoreOf(framework.controls.map((control) => control.status));
    framework.sections = framework.sections.map((section) => ({ ...section, score: scoreOf(framework.controls.filter((control) => control.section === section.id).map((control) => control.status)) }));
  }
  return [...frameworks.values()];
}

function comparisonSection(results: ScanResult[], names: string[], frameworkIds: string[]): ReportSection {
  return {
    id: 'clusters',
    title: 'Clusters compared',
    summary: `${results.length} clusters in one report; a control fails when it fails in any cluster.`,
    figures: [{ label: 'clusters', value: results.length }],
    tables: [
      {
        title: 'Findings and compliance per cluster',
        columns: ['cluster', 'server version', 'objects', 'findings', ...SEVERITIES, ...frameworkIds],
        rows: results.map((result, i) => [
          names[i],
          result.scan.target.cluster?.serverVersion ?? '-',
          result.summary.objects,
          result.summary.findings,
          ...SEVERITIES.map((severity) => result.summary.bySeverity[severity]),
          ...frameworkIds.map((id) => {
            const percent = result.compliance?.find((f) => f.id === id)?.score.percent;
            return percent === undefined || percent === null ? 'n/a' : `${formatPercent(percent)}%`;
          }),
        ]),
      },
    ],
  };
}

export function mergeResults(results: ScanResult[]): ScanResult {
  if (results.length === 1) return results[0];
  const names = uniqueNames(results);
  const findings = results.flatMap((result, i) => result.findings.map((finding) => inCluster(finding, names[i]))).sort(compareFindings);
  const bySeverity = Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<Severity, number>;
  for (const finding of findings) bySeverity[finding.severity]++;
  const compliance = mergeCompliance(results, names);
  const startedAt = results.map((r) => r.scan.startedAt).sort()[0];
  const finishedAt = results.map((r) => r.scan.finishedAt).sort().at(-1)!;
  const merged: ScanResult = {
    schemaVersion: RESULT_SCHEMA_VERSION,
    kscanVersion: results[0].kscanVersion,
    scan: {
      target: { type: 'cluster', name: names.join('+') },
      collectedAt: results.map((r) => r.scan.collectedAt).sort()[0],
      startedAt,
      finishedAt,
      durationMs: Date.parse(finishedAt) - Date.parse(startedAt),
      frameworks: [...new Set(results.flatMap((r) => r.scan.frameworks))],
    },
    summary: { objects: results.reduce((n, r) => n + r.summary.objects, 0), checks: Math.max(...results.map((r) => r.summary.checks)), findings: findings.length, bySeverity },
    coverage: mergeCoverage(results, names),
    checks: mergeChecks(results),
    findings,
    errors: results.flatMap((result, i) => result.errors.map((error) => ({ ...error, source: `${names[i]}: ${error.source}` }))),
    ...(compliance.length ? { compliance } : {}),
    // Each cluster's feature sections (images, RBAC, audit, ...) come along under its name.
    sections: [
      comparisonSection(results, names, compliance.map((f) => f.id)),
      ...results.flatMap((result, i) => (result.sections ?? []).map((section) => ({ ...section, id: `${names[i]}-${section.id}`, title: `${names[i]}: ${section.title}` }))),
    ],
  };
  return merged;
}
