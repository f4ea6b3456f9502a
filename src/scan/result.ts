// The canonical, versioned scan result: what `--format json` writes and every other report reads.
// schemas/result.schema.json describes it; bump RESULT_SCHEMA_VERSION on incompatible changes.
import type { ClusterInfo, Coverage, Finding, FrameworkControls, InputError, Severity } from '../model/types.js';
import type { AuditReport } from '../audit/summary.js';
import type { RbacReport } from '../rbac/report.js';
import type { ImagesResult } from '../images/section.js';
import type { ExceptionsReport } from '../exceptions/exceptions.js';
import type { BaselineComparison, FindingsDiff } from '../findings/diff.js';
import type { EventsReport } from '../events/summary.js';

export const RESULT_SCHEMA_VERSION = '1.0';

export interface CheckSummary {
  id: string;
  title: string;
  severity: Severity;
  category: string;
  controls: FrameworkControls;
  /** Objects the check applied to. */
  evaluated: number;
  /** Findings it produced. */
  failed: number;
  /** Evaluation time over the whole inventory, in milliseconds; only with --profile. */
  durationMs?: number;
  /** What the check is about and how to fix what it finds (for rule help in SARIF and reports). */
  description?: string;
  remediation?: string;
}

export interface ScanTarget {
  type: 'cluster' | 'snapshot' | 'manifests' | 'audit';
  name: string;
  cluster?: ClusterInfo;
  paths?: string[];
}

export interface ScanResult {
  schemaVersion: string;
  kscanVersion: string;
  scan: {
    target: ScanTarget;
    collectedAt: string;
    startedAt: string;
    finishedAt: string;
    durationMs: number;
    frameworks: string[];
  };
  summary: {
    objects: number;
    checks: number;
    findings: number;
    bySeverity: Record<Severity, number>;
  };
  coverage: Coverage;
  checks: CheckSummary[];
  findings: Finding[];
  /** Check load and evaluation problems: the scan went on without them. */
  errors: InputError[];
  /** Control-by-control status and scores, for the frameworks in scope. */
  compliance?: FrameworkResult[];
  /** Feature sections (images, RBAC, audit, ...) in a form every report renders. */
  sections?: ReportSection[];
  /** Image inventory, lineage and vulnerability risk (kscan cluster --images, or a snapshot with images/). */
  images?: ImagesResult;
  /** Audit log analysis (kscan audit, kscan cluster --audit): summary, rule statistics, baseline comparison. */
  audit?: AuditReport;
  /** Warning Events by reason, namespace and workload (kscan cluster), with the trend under --history. */
  events?: EventsReport;
  /** RBAC analysis: subjects ranked by power, paths to risky permissions, privileged workloads with powerful service accounts. */
  rbac?: RbacReport;
  /** Trend against earlier scans of the same target, when the scan was recorded with --history. */
  history?: HistoryTrend;
  /** What exceptions (config file, default packs, kscan.io/ignore annotations) suppressed. */
  exceptions?: ExceptionsReport;
  /** New, unchanged and resolved findings against --baseline (a previous result); --fail-on then looks at new ones only. */
  baseline?: BaselineComparison;
}

// ---------------------------------------------------------------------------------------------
// Optional sections, filled in by scan extensions (src/scan/scan.ts ScanExtension).

/** How a framework control came out. */
export type ControlStatus = 'pass' | 'fail' | 'manual' | 'not-applicable' | 'not-evaluated' | 'provider';

export interface ControlResult {
  id: string;
  title: string;
  /** Section id within the framework, e.g. "5.2" for CIS, "baseline" for PSS. */
  section: string;
  status: ControlStatus;
  /** CIS: "L1"/"L2"; CIS: whether the benchmark marks it automated (scored). */
  level?: string;
  automated?: boolean;
  /** Checks that decide this control. */
  checks: string[];
  /** Findings counted against it. */
  findings: number;
  /** Distinct objects with findings against it (fail only). */
  objects?: number;
  /** What the control is about: cluster, namespace (also scored per namespace), node or control-plane. */
  scope?: 'cluster' | 'namespace' | 'node' | 'control-plane';
  /** Why it is manual, not applicable, not evaluated or the provider's; for manual, what to check. */
  reason?: string;
}

export interface ComplianceScore {
  passed: number;
  failed: number;
  manual: number;
  notApplicable: number;
  notEvaluated: number;
  provider: number;
  /** passed / (passed + failed) * 100, or null when nothing was decided. */
  percent: number | null;
}

export interface FrameworkResult {
  id: string;
  title: string;
  version: string;
  controls: ControlResult[];
  score: ComplianceScore;
  sections: { id: string; title: string; score: ComplianceScore }[];
  /** Score per namespace over the namespaced controls. */
  namespaces: { namespace: string; score: ComplianceScore }[];
}

/**
 * A generic block every report format can render without knowing the feature behind it:
 * headline figures and tables. Features (images, RBAC, audit) add one next to their typed data.
 */
export interface ReportSection {
  id: string;
  title: string;
  summary?: string;
  figures?: { label: string; value: string | number; severity?: Severity }[];
  tables?: { title: string; columns: string[]; rows: (string | number)[][]; note?: string }[];
}

// ---------------------------------------------------------------------------------------------
// Scan history (src/history/): filled in when a scan is recorded with --history.

/** One recorded scan, as the trend charts need it. */
export interface HistoryPoint {
  scannedAt: string;
  findings: number;
  bySeverity: Record<Severity, number>;
  /** Score percent per framework id (null when nothing was decided). */
  scores: Record<string, number | null>;
}

export interface HistoryTrend extends FindingsDiff {
  /** Identity of the target that scans are compared under, e.g. "cluster:prod-eu1". */
  target: string;
  /** The previous recorded scan of the same target; absent on the first recorded scan. */
  previous?: HistoryPoint;
  /** Score change per framework since the previous scan (percentage points). */
  scoreChanges: { framework: string; title: string; previous: number | null; current: number | null; change: number | null }[];
  /** Recorded scans of the target, oldest first, ending with this one (at most the last 30). */
  series: HistoryPoint[];
}
