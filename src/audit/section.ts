// The audit summary as a generic report section (figures and tables) that every format renders.
import type { ReportSection } from '../scan/result.js';
import type { AuditCount, AuditReport, PrincipalSummary } from './summary.js';

const countRows = (counts: AuditCount[]) => counts.map((c) => [c.key, c.count]);
const principalRows = (principals: PrincipalSummary[]) => principals.map((p) => [p.user, p.events, p.denied, p.firstSeen, p.lastSeen]);

export function auditSection(report: AuditReport): ReportSection {
  const range = report.timeRange ? `${report.timeRange.from} to ${report.timeRange.to}` : 'no timestamps';
  const denied = report.denied.reduce((n, c) => n + c.count, 0);
  const figures: NonNullable<ReportSection['figures']> = [
    { label: 'Events analysed', value: report.analysed },
    { label: 'Time range', value: range },
    { label: 'Principals', value: report.principals },
    { label: 'Denied (401/403)', value: denied, ...(denied ? { severity: 'medium' as const } : {}) },
    { label: 'Rule findings', value: report.rules.reduce((n, r) => n + r.findings, 0) },
  ];
  if (report.malformed || report.unsupported) figures.push({ label: 'Unreadable lines', value: report.malformed + report.unsupported, severity: 'low' });
  if (report.baseline) figures.push({ label: 'New principals (not in baseline)', value: report.baseline.newPrincipals, ...(report.baseline.newPrincipals ? { severity: 'low' as const } : {}) });
  const tables: NonNullable<ReportSection['tables']> = [
    { title: 'Top principals', columns: ['principal', 'events', 'denied', 'first seen', 'last seen'], rows: principalRows(report.topPrincipals) },
    { title: 'Denied requests by principal', columns: ['principal', 'denied'], rows: countRows(report.denied) },
    {
      title: report.baseline ? 'Principals not in the baseline' : 'First seen principals (latest first)',
      columns: ['principal', 'events', 'denied', 'first seen', 'last seen'],
      rows: principalRows(report.firstSeen),
    },
    { title: 'Events by verb', columns: ['verb', 'events'], rows: countRows(report.byVerb) },
    { title: 'Events by resource', columns: ['resource', 'events'], rows: countRows(report.byResource) },
    { title: 'Events by response code', columns: ['code', 'events'], rows: countRows(report.byResponseCode) },
    { title: 'Events by source IP', columns: ['source IP', 'events'], rows: countRows(report.bySourceIP) },
    {
      title: 'Rules',
      columns: ['rule', 'candidates', 'matched', 'findings'],
      rows: report.rules.map((r) => [r.id, r.candidates, r.matched, r.findings]),
      note: 'Candidates passed the rule’s verb/resource pre-filter; matched failed its assert.',
    },
  ];
  if (report.comparison) {
    tables.push({
      title: 'Against the baseline period (per hour)',
      columns: ['metric', 'baseline', 'now', 'change'],
      rows: report.comparison.map((c) => [c.metric, c.previousPerHour, c.currentPerHour, c.changePercent === null ? 'new' : `${c.changePercent > 0 ? '+' : ''}${c.changePercent}%`]),
      note: report.baseline ? `Baseline learned from ${report.baseline.learnedFrom.from} to ${report.baseline.learnedFrom.to}.` : undefined,
    });
  }
  const sources = report.sources.length === 1 ? report.sources[0] : `${report.sources.length} files`;
  return {
    id: 'audit',
    title: 'Audit log',
    summary: `${report.analysed} requests from ${sources}, ${range}${report.otherStages ? ` (${report.otherStages} intermediate-stage events not counted twice)` : ''}.`,
    figures,
    tables: tables.filter((table) => table.rows.length > 0),
  };
}

