// The HTML report: one self-contained file (inline CSS, JS and SVG; no URL is ever fetched, and a
// Content-Security-Policy forbids it) rendered from templates/ with Handlebars, whose {{ }}
// escapes every value. The findings table is drawn in the browser from JSON embedded in a
// <script type="application/json"> element (escaped by scriptJson), a page at a time, so 20,000
// findings stay fast; the script only ever sets textContent.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { SEVERITIES, type Severity } from '../model/types.js';
import type { FrameworkResult, HistoryPoint, ReportSection, ScanResult } from '../scan/result.js';
import {
  controlEvidence,
  evidenceObjects,
  findingsByCheck,
  findingWhere,
  formatPercent,
  inputProblems,
  namespaceHeat,
  notCollected,
  objectsToFixFirst,
  STATUS_LABEL,
  targetLabel,
  trendSentence,
} from './common.js';
import { scriptJson } from './sanitize.js';

export const TEMPLATES_DIR = fileURLToPath(new URL('../../../templates/', import.meta.url));

/** Failing objects listed under a control before "and N more". */
const EVIDENCE_LIMIT = 12;

let compiled: Handlebars.TemplateDelegate | undefined;
let assets: { css: string; js: string } | undefined;

function template(): { render: Handlebars.TemplateDelegate; css: string; js: string } {
  if (!compiled || !assets) {
    const hb = Handlebars.create();
    const partialsDir = path.join(TEMPLATES_DIR, 'partials');
    for (const file of readdirSync(partialsDir).filter((f) => f.endsWith('.hbs'))) {
      hb.registerPartial(path.basename(file, '.hbs'), readFileSync(path.join(partialsDir, file), 'utf8'));
    }
    compiled = hb.compile(readFileSync(path.join(TEMPLATES_DIR, 'report.hbs'), 'utf8'), { strict: false, noEscape: false });
    assets = { css: readFileSync(path.join(TEMPLATES_DIR, 'report.css'), 'utf8'), js: readFileSync(path.join(TEMPLATES_DIR, 'report.js'), 'utf8') };
  }
  return { render: compiled, ...assets };
}

function scoreClass(percent: number | null): string {
  if (percent === null) return 'score-na';
  return percent >= 90 ? 'score-good' : percent >= 70 ? 'score-fair' : 'score-poor';
}

function gauge(framework: FrameworkResult) {
  const percent = framework.score.percent;
  return {
    id: framework.id,
    title: framework.title,
    version: framework.version,
    label: percent === null ? 'n/a' : `${formatPercent(percent)}%`,
    dash: percent === null ? 0 : Math.max(0, Math.min(100, percent)),
    className: scoreClass(percent),
    score: framework.score,
  };
}

/** A small line chart of findings over recorded scans, as SVG coordinates (numbers only). */
function trendChart(series: HistoryPoint[]) {
  const width = 560;
  const height = 140;
  const pad = 28;
  const max = Math.max(1, ...series.map((p) => p.findings));
  const x = (i: number) => (series.length === 1 ? width / 2 : pad + (i * (width - 2 * pad)) / (series.length - 1));
  const y = (v: number) => height - pad - (v * (height - 2 * pad)) / max;
  const line = (value: (p: HistoryPoint) => number) => series.map((p, i) => `${x(i).toFixed(1)},${y(value(p)).toFixed(1)}`).join(' ');
  return {
    width,
    height,
    max,
    baseline: height - pad,
    top: pad,
    all: line((p) => p.findings),
    severe: line((p) => p.bySeverity.critical + p.bySeverity.high),
    points: series.map((p, i) => ({ x: x(i).toFixed(1), y: y(p.findings).toFixed(1), findings: p.findings, scannedAt: p.scannedAt })),
    first: series[0]?.scannedAt.slice(0, 10),
    last: series[series.length - 1]?.scannedAt.slice(0, 10),
  };
}

function sectionView(section: ReportSection) {
  return {
    ...section,
    tables: (section.tables ?? []).map((table) => ({ ...table, rows: table.rows.map((row) => row.map((cell) => String(cell))) })),
  };
}

/** Compact rows for the browser: [severity index, check, kind, namespace, name, message, where, path, fingerprint, new]. */
function findingsData(result: ScanResult) {
  const newOnes = new Set(result.history?.newFingerprints ?? []);
  const checks: Record<string, { title: string; category: string; remediation: string; frameworks: string[]; controls: string[] }> = {};
  for (const finding of result.findings) {
    if (checks[finding.checkId]) continue;
    checks[finding.checkId] = {
      title: finding.title,
      category: finding.category,
      remediation: finding.remediation,
      frameworks: Object.keys(finding.controls).filter((key) => finding.controls[key].length),
      controls: Object.entries(finding.controls).flatMap(([key, ids]) => ids.map((id) => `${key}:${id}`)),
    };
  }
  const rows = result.findings.map((f) => [
    SEVERITIES.indexOf(f.severity),
    f.checkId,
    f.object.kind,
    f.object.namespace ?? '',
    f.object.name,
    f.message,
    findingWhere(f),
    f.path,
    f.fingerprint,
    newOnes.has(f.fingerprint) ? 1 : 0,
  ]);
  return { severities: SEVERITIES, checks, rows, hasHistory: Boolean(result.history?.previous) };
}

export function renderHtml(result: ScanResult): string {
  const { render, css, js } = template();
  const byCheck = findingsByCheck(result.findings);
  const top = objectsToFixFirst(result.findings, 10);
  const heat = namespaceHeat(result.findings);
  const heatMax = Math.max(1, ...heat.flatMap((row) => SEVERITIES.map((s) => row.counts[s])));
  const history = result.history;

  const view = {
    title: `kscan report: ${targetLabel(result)}`,
    target: targetLabel(result),
    cluster: result.scan.target.cluster,
    kscanVersion: result.kscanVersion,
    startedAt: result.scan.startedAt,
    collectedAt: result.scan.collectedAt,
    durationMs: result.scan.durationMs,
    frameworks: result.scan.frameworks.join(', '),
    summary: result.summary,
    severityCards: SEVERITIES.map((severity) => ({ severity, count: result.summary.bySeverity[severity] ?? 0 })),
    gauges: (result.compliance ?? []).map(gauge),
    topObjects: top.ranked.map((entry) => ({
      label: entry.label,
      counts: SEVERITIES.filter((s) => entry.counts[s]).map((s) => ({ severity: s, count: entry.counts[s] })),
    })),
    objectsWithFindings: top.objectsWithFindings,
    notCollected: notCollected(result),
    problems: inputProblems(result),
    heat: heat.map((row) => ({
      namespace: row.namespace,
      total: row.total,
      cells: SEVERITIES.map((severity: Severity) => ({ severity, count: row.counts[severity], level: row.counts[severity] ? Math.ceil((row.counts[severity] / heatMax) * 4) : 0 })),
    })),
    severities: SEVERITIES,
    compliance: (result.compliance ?? []).map((framework) => ({
      ...gauge(framework),
      sections: framework.sections.map((section) => ({ ...section, label: section.score.percent === null ? 'n/a' : `${formatPercent(section.score.percent)}%` })),
      controls: framework.controls.map((control) => {
        const evidence = control.status === 'fail' ? evidenceObjects(controlEvidence(control, byCheck), EVIDENCE_LIMIT) : { labels: [], more: 0 };
        return { ...control, statusLabel: STATUS_LABEL[control.status], evidence: evidence.labels, more: evidence.more };
      }),
    })),
    sections: (result.sections ?? []).map(sectionView),
    history: history
      ? {
          sentence: trendSentence(result) ?? 'First recorded scan of this target: the trend starts here.',
          newCount: history.newFingerprints.length,
          resolved: history.resolved.slice(0, 50),
          resolvedMore: Math.max(0, history.resolved.length - 50),
          resolvedCount: history.resolved.length,
          stillOpen: history.stillOpen,
          scoreChanges: history.scoreChanges.map((change) => ({
            ...change,
            previousLabel: change.previous === null ? 'n/a' : `${formatPercent(change.previous)}%`,
            currentLabel: change.current === null ? 'n/a' : `${formatPercent(change.current)}%`,
            changeLabel: change.change === null ? '—' : `${change.change >= 0 ? '+' : ''}${formatPercent(change.change)}`,
            direction: change.change === null || change.change === 0 ? 'same' : change.change > 0 ? 'up' : 'down',
          })),
          chart: history.series.length > 1 ? trendChart(history.series) : undefined,
        }
      : undefined,
    css,
    js,
    data: scriptJson(findingsData(result)),
  };
  return render(view, { allowProtoPropertiesByDefault: false });
}
