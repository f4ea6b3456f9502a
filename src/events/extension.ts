// The Events part of `kscan cluster`: Warning events summarized (summary.ts) into the typed
// `events` result, a generic report section every format renders, and a trend with --history.
import type { K8sObject } from '../model/types.js';
import type { ReportSection } from '../scan/result.js';
import type { ScanExtension } from '../scan/scan.js';
import { historyTargetKey, resolveHistoryFile } from '../history/store.js';
import { recordEventTrend } from './history.js';
import { summarizeEvents, type EventsReport } from './summary.js';

export function eventsExtension(events: K8sObject[], options: { history?: string } = {}): ScanExtension {
  return {
    name: 'events',
    run(context) {
      const report = summarizeEvents(events, context.inventory);
      if (options.history) {
        const trend = recordEventTrend(resolveHistoryFile(options.history), historyTargetKey(context.result), context.result.scan.startedAt, report);
        if (trend) report.trend = trend;
      }
      context.result.events = report;
      (context.result.sections ??= []).push(eventsSection(report));
    },
  };
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

export function eventsSection(report: EventsReport): ReportSection {
  const figures: NonNullable<ReportSection['figures']> = [
    { label: 'Events', value: report.events },
    { label: 'Warning events', value: report.warnings, ...(report.warnings ? { severity: 'low' as const } : {}) },
    { label: 'Warning occurrences', value: report.warningOccurrences },
  ];
  if (report.trend) {
    const change = report.trend.byReason.reduce((n, r) => n + r.change, 0);
    figures.push({ label: 'Change since previous scan', value: signed(change), ...(change > 0 ? { severity: 'low' as const } : {}) });
  }
  const tables: NonNullable<ReportSection['tables']> = [
    { title: 'Warnings by reason', columns: ['reason', 'events', 'occurrences'], rows: report.byReason.map((r) => [r.reason, r.events, r.occurrences]) },
    { title: 'Warnings by namespace', columns: ['namespace', 'events', 'occurrences', 'top reason'], rows: report.byNamespace.map((n) => [n.namespace || '(cluster)', n.warnings, n.occurrences, n.topReason]) },
    {
      title: 'Warnings by workload',
      columns: ['namespace', 'workload', 'reason', 'occurrences', 'last seen', 'latest message'],
      rows: report.byWorkload.map((w) => [w.namespace || '(cluster)', `${w.kind}/${w.name}`, w.reason, w.occurrences, w.lastSeen, w.message]),
      note: 'Events about pods are counted on the workload that owns them.',
    },
  ];
  if (report.trend) {
    tables.push({
      title: 'Warnings against the previous scan',
      columns: ['reason', 'previous', 'now', 'change'],
      rows: report.trend.byReason.map((r) => [r.reason, r.previous, r.current, signed(r.change)]),
      note: `Previous scan: ${report.trend.previousScannedAt}.`,
    });
  }
  return {
    id: 'events',
    title: 'Kubernetes events',
    summary: report.warnings ? `${report.warnings} of ${report.events} events are warnings (${report.warningOccurrences} occurrences), most often ${report.byReason[0].reason}.` : `${report.events} events, none of them warnings.`,
    figures,
    tables: tables.filter((table) => table.rows.length > 0),
  };
}
