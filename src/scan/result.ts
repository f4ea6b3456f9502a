// The canonical, versioned scan result: what `--format json` writes and every other report reads.
// schemas/result.schema.json describes it; bump RESULT_SCHEMA_VERSION on incompatible changes.
import type { ClusterInfo, Coverage, Finding, FrameworkControls, InputError, Severity } from '../model/types.js';

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
}

export interface ScanTarget {
  type: 'cluster' | 'snapshot' | 'manifests';
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
