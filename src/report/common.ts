// What several report formats derive from a result in the same way: labels, rankings, the
// evidence behind a control, what was not collected. Plain data, no markup.
import type { Finding, ObjectRef, Severity } from '../model/types.js';
import { SEVERITIES, SEVERITY_RANK } from '../model/types.js';
import type { ControlResult, ControlStatus, FrameworkResult, ScanResult } from '../scan/result.js';

export function objectLabel(object: ObjectRef): string {
  return `${object.cluster ? object.cluster + ':' : ''}${object.kind}/${object.namespace ? object.namespace + '/' : ''}${object.name}`;
}

/** file:line:column for file findings, else the field path. */
export function findingWhere(finding: Finding): string {
  return finding.location ? `${finding.location.file}:${finding.location.line}:${finding.location.column}` : finding.path;
}

export function targetLabel(result: ScanResult): string {
  const { target } = result.scan;
  return target.type === 'manifests' ? `manifests (${(target.paths ?? [target.name]).join(', ')})` : `${target.type} ${target.name}`;
}

export function emptyCounts(): Record<Severity, number> {
  return { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
}

/** Severity-weighted, so one critical outranks any number of lows in practice. */
export function severityWeight(counts: Record<Severity, number>): number {
  return counts.critical * 1_000_000 + counts.high * 10_000 + counts.medium * 100 + counts.low + counts.info * 0.01;
}

export interface RankedObject {
  label: string;
  object: ObjectRef;
  counts: Record<Severity, number>;
  total: number;
}

/** The objects to fix first: most findings, weighted by severity. */
export function objectsToFixFirst(findings: Finding[], top = 10): { ranked: RankedObject[]; objectsWithFindings: number } {
  const byObject = new Map<string, RankedObject>();
  for (const finding of findings) {
    const label = objectLabel(finding.object);
    let entry = byObject.get(label);
    if (!entry) byObject.set(label, (entry = { label, object: finding.object, counts: emptyCounts(), total: 0 }));
    entry.counts[finding.severity]++;
    entry.total++;
  }
  const ranked = [...byObject.values()].sort((a, b) => severityWeight(b.counts) - severityWeight(a.counts) || a.label.localeCompare(b.label));
  return { ranked: ranked.slice(0, top), objectsWithFindings: byObject.size };
}

export interface NamespaceHeat {
  namespace: string;
  counts: Record<Severity, number>;
  total: number;
}

/** Findings per namespace and severity, worst namespace first; cluster-scoped objects under "(cluster)". */
export function namespaceHeat(findings: Finding[]): NamespaceHeat[] {
  const rows = new Map<string, NamespaceHeat>();
  for (const finding of findings) {
    const namespace = finding.object.namespace ?? '(cluster)';
    let row = rows.get(namespace);
    if (!row) rows.set(namespace, (row = { namespace, counts: emptyCounts(), total: 0 }));
    row.counts[finding.severity]++;
    row.total++;
  }
  return [...rows.values()].sort((a, b) => severityWeight(b.counts) - severityWeight(a.counts) || a.namespace.localeCompare(b.namespace));
}

/** Kinds that could not be listed: findings on them may be missing. */
export function notCollected(result: ScanResult): { kind: string; status: string; error?: string }[] {
  return result.coverage.kinds
    .filter((kind) => kind.status === 'forbidden' || kind.status === 'failed')
    .map((kind) => ({ kind: `${kind.kind}${kind.group ? '.' + kind.group : ''}`, status: kind.status, ...(kind.error ? { error: kind.error } : {}) }));
}

/** Input problems of every stage, one line each. */
export function inputProblems(result: ScanResult): string[] {
  return [...result.coverage.errors, ...result.errors].map((problem) => `${problem.source}${problem.line ? `:${problem.line}` : ''}: ${problem.message}`);
}

/** Findings by check id, in result order (worst first). */
export function findingsByCheck(findings: Finding[]): Map<string, Finding[]> {
  const byCheck = new Map<string, Finding[]>();
  for (const finding of findings) {
    let list = byCheck.get(finding.checkId);
    if (!list) byCheck.set(finding.checkId, (list = []));
    list.push(finding);
  }
  return byCheck;
}

/** The failing objects behind a control: the findings of the checks that decide it. */
export function controlEvidence(control: ControlResult, byCheck: Map<string, Finding[]>): Finding[] {
  return control.checks.flatMap((checkId) => byCheck.get(checkId) ?? []);
}

/** Distinct object labels of findings, in order, at most `limit`, with how many were left out. */
export function evidenceObjects(findings: Finding[], limit: number): { labels: string[]; more: number } {
  const labels = [...new Set(findings.map((finding) => objectLabel(finding.object)))];
  return { labels: labels.slice(0, limit), more: Math.max(0, labels.length - limit) };
}

export const STATUS_LABEL: Record<ControlStatus, string> = {
  pass: 'pass',
  fail: 'fail',
  manual: 'manual',
  'not-applicable': 'not applicable',
  'not-evaluated': 'not evaluated',
  provider: 'provider',
};

export function scoreLabel(framework: FrameworkResult): string {
  return framework.score.percent === null ? 'n/a' : `${formatPercent(framework.score.percent)}%`;
}

export function formatPercent(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

export function worstFirst(findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]);
}

export function severityCounts(result: ScanResult): { severity: Severity; count: number }[] {
  return SEVERITIES.map((severity) => ({ severity, count: result.summary.bySeverity[severity] ?? 0 }));
}

/** Framework control references as "framework:control" tags. */
export function controlTags(controls: Record<string, string[]>): string[] {
  return Object.entries(controls).flatMap(([framework, ids]) => ids.map((id) => `${framework}:${id}`));
}

/** Short sentence comparing with --baseline, or undefined without one. */
export function baselineSentence(result: ScanResult): string | undefined {
  const baseline = result.baseline;
  if (!baseline) return undefined;
  return `Against the baseline ${baseline.file} (${baseline.scannedAt}): ${baseline.newFingerprints.length} new, ${baseline.resolved.length} resolved, ${baseline.stillOpen} unchanged; --fail-on applies to new findings only.`;
}

/** Short sentence for the trend line, or undefined when there is no earlier scan. */
export function trendSentence(result: ScanResult): string | undefined {
  const history = result.history;
  if (!history?.previous) return undefined;
  const scores = history.scoreChanges
    .filter((change) => change.change !== null)
    .map((change) => `${change.framework} ${change.change! >= 0 ? '+' : ''}${formatPercent(change.change!)} pts`);
  return (
    `Since the previous scan (${history.previous.scannedAt}): ${history.newFingerprints.length} new, ${history.resolved.length} resolved, ${history.stillOpen} still open` +
    (scores.length ? `; score ${scores.join(', ')}` : '') +
    '.'
  );
}
