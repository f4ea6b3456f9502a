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
}
