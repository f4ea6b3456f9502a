// The terminal summary: findings grouped by severity and check, with the objects under each,
// counts, and what could not be collected. Colour only on a TTY, and never with NO_COLOR.
import type { Finding, Severity } from '../model/types.js';
import { SEVERITIES } from '../model/types.js';
import type { ScanResult } from '../scan/result.js';
import { terminalSafe } from './sanitize.js';
import { baselineSentence, formatPercent, trendSentence } from './common.js';
import { renderComplianceText } from './compliance-text.js';
import { renderSectionsText } from './sections-text.js';

export interface TextOptions {
  color?: boolean;
  /** Objects listed under each check before "and N more". */
  maxObjectsPerCheck?: number;
}

const SEVERITY_COLOR: Record<Severity, string> = { critical: '1;31', high: '31', medium: '33', low: '36', info: '2' };

function objectLabel(finding: Finding): string {
  const { kind, namespace, name } = finding.object;
  return `${kind}/${namespace ? namespace + '/' : ''}${name}`;
}

function where(finding: Finding): string {
  const e = finding.evidence;
  if (e) {
    const code = e.responseCode ? ` → ${e.responseCode}` : '';
    const from = e.sourceIP ? ` from ${e.sourceIP}` : '';
    const repeated = e.count && e.count > 1 ? `, ${e.count} times until ${e.lastTimestamp ?? e.timestamp}` : '';
    return `${e.timestamp} ${e.user} ${e.verb} ${e.object}${code}${from}${e.auditID ? `, auditID ${e.auditID}` : ''}${repeated}`;
  }
  return finding.location ? `${finding.location.file}:${finding.location.line}:${finding.location.column}` : finding.path;
}

/** The objects to fix first: most findings, weighted by severity. */
function mostAffected(findings: Finding[], top = 5): string[] {
  const byObject = new Map<string, Record<Severity, number>>();
  for (const finding of findings) {
    const label = objectLabel(finding);
    let counts = byObject.get(label);
    if (!counts) byObject.set(label, (counts = { critical: 0, high: 0, medium: 0, low: 0, info: 0 }));
    counts[finding.severity]++;
  }
  const weight = (c: Record<Severity, number>) => c.critical * 1000 + c.high * 100 + c.medium * 10 + c.low;
  const ranked = [...byObject].sort((a, b) => weight(b[1]) - weight(a[1]) || a[0].localeCompare(b[0])).slice(0, top);
  return [
    `Objects to fix first (of ${byObject.size} with findings):`,
    ...ranked.map(([label, counts]) => `  ${terminalSafe(label)}: ${SEVERITIES.filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`).join(', ')}`),
  ];
}

/** New, resolved and still open against the previous recorded scan, and how each score moved. */
function trendText(result: ScanResult, paint: (code: string, text: string) => string): string[] {
  const history = result.history;
  if (!history) return [];
  if (!history.previous) return [paint('1', 'Trend'), '  First recorded scan of this target: the trend starts here.', ''];
  const out = [paint('1', 'Trend'), `  ${trendSentence(result)}`];
  const changed = history.scoreChanges.filter((c) => c.change !== null && c.change !== 0);
  for (const c of changed) out.push(`  ${terminalSafe(c.title)}: ${formatPercent(c.previous!)}% → ${formatPercent(c.current!)}% (${c.change! > 0 ? '+' : ''}${formatPercent(c.change!)} pts)`);
  for (const r of history.resolved.slice(0, 10)) out.push(`  resolved: ${r.checkId} ${terminalSafe(r.title)} on ${terminalSafe(r.object)}`);
  if (history.resolved.length > 10) out.push(`  … and ${history.resolved.length - 10} more resolved`);
  out.push('');
  return out;
}

export function renderText(result: ScanResult, options: TextOptions = {}): string {
  const paint = (code: string, text: string) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const limit = options.maxObjectsPerCheck ?? 10;
  const out: string[] = [];
  const { target } = result.scan;
  const targetLabel = target.type === 'manifests' ? `manifests (${(target.paths ?? []).join(', ')})` : `${target.type} ${target.name}`;
  out.push(paint('1', `kscan ${result.kscanVersion} — ${terminalSafe(targetLabel)}`));
  const frameworks = result.scan.frameworks.length ? `, frameworks: ${result.scan.frameworks.join(', ')}` : '';
  out.push(`${result.summary.objects} objects, ${result.summary.checks} checks${frameworks}, ${result.scan.durationMs} ms`);
  out.push('');

  const bySeverity = new Map<Severity, Map<string, Finding[]>>();
  for (const finding of result.findings) {
    let byCheck = bySeverity.get(finding.severity);
    if (!byCheck) bySeverity.set(finding.severity, (byCheck = new Map()));
    let list = byCheck.get(finding.checkId);
    if (!list) byCheck.set(finding.checkId, (list = []));
    list.push(finding);
  }
  for (const severity of SEVERITIES) {
    const byCheck = bySeverity.get(severity);
    if (!byCheck) continue;
    const count = [...byCheck.values()].reduce((n, list) => n + list.length, 0);
    out.push(paint(SEVERITY_COLOR[severity], `${severity.toUpperCase()} (${count})`));
    for (const [checkId, findings] of byCheck) {
      out.push(`  ${checkId} ${terminalSafe(findings[0].title)} — ${findings.length} finding${findings.length === 1 ? '' : 's'}`);
      for (const finding of findings.slice(0, limit)) {
        out.push(`    ${terminalSafe(objectLabel(finding))}: ${terminalSafe(finding.message)} ${paint('2', `(${terminalSafe(where(finding))})`)}`);
      }
      if (findings.length > limit) out.push(`    … and ${findings.length - limit} more`);
      out.push(`    fix: ${terminalSafe(findings[0].remediation)}`);
    }
    out.push('');
  }
  if (!result.findings.length) out.push(paint('32', 'No findings.'), '');
  else out.push(...mostAffected(result.findings), '');
  out.push(...renderComplianceText(result.compliance, paint));
  out.push(...trendText(result, paint));

  const notCollected = result.coverage.kinds.filter((kind) => kind.status === 'forbidden' || kind.status === 'failed');
  if (notCollected.length) {
    out.push(paint('33', `Not collected (${notCollected.length} kind${notCollected.length === 1 ? '' : 's'}): findings for ${notCollected.length === 1 ? 'it' : 'them'} may be missing`));
    for (const kind of notCollected) out.push(`  ${terminalSafe(`${kind.kind}${kind.group ? '.' + kind.group : ''}`)}: ${kind.status}${kind.error ? ` — ${terminalSafe(kind.error)}` : ''}`);
    out.push('');
  }
  out.push(...renderSectionsText(result.sections, paint));
  const problems = [...result.coverage.errors, ...result.errors];
  if (problems.length) {
    out.push(paint('33', `Input problems (${problems.length}):`));
    for (const problem of problems) out.push(`  ${terminalSafe(problem.source)}${problem.line ? `:${problem.line}` : ''}: ${terminalSafe(problem.message)}`);
    out.push('');
  }
  const baseline = baselineSentence(result);
  if (baseline) out.push(terminalSafe(baseline), '');
  const counts = SEVERITIES.map((severity) => `${result.summary.bySeverity[severity]} ${severity}`).join(', ');
  out.push(paint('1', `${result.summary.findings} findings: ${counts}`));
  return out.join('\n') + '\n';
}
