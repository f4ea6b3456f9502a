// New, unchanged and resolved findings between two scans, by stable fingerprint. Scan history
// (src/history) and --baseline (a previous result file) both compare this way.
import type { Finding, Severity } from '../model/types.js';
import { objectLabel } from '../report/common.js';

/** What is kept of an earlier finding: enough to name a resolved one, never its message. */
export interface FindingRecord {
  fingerprint: string;
  checkId: string;
  title: string;
  severity: Severity;
  object: string;
}

export interface FindingsDiff {
  /** Fingerprints of current findings the earlier scan did not have. */
  newFingerprints: string[];
  /** Earlier findings that are gone now. */
  resolved: FindingRecord[];
  /** Current findings the earlier scan had too. */
  stillOpen: number;
}

export interface BaselineComparison extends FindingsDiff {
  /** The baseline result file, and when its scan ran. */
  file: string;
  scannedAt: string;
}

export function findingRecord(finding: Finding): FindingRecord {
  return { fingerprint: finding.fingerprint, checkId: finding.checkId, title: finding.title, severity: finding.severity, object: objectLabel(finding.object) };
}

export function diffFindings(before: readonly FindingRecord[], current: readonly Finding[]): FindingsDiff {
  const beforeSet = new Set(before.map((record) => record.fingerprint));
  const now = new Set(current.map((finding) => finding.fingerprint));
  const newFingerprints = current.filter((finding) => !beforeSet.has(finding.fingerprint)).map((finding) => finding.fingerprint);
  return {
    newFingerprints,
    resolved: before.filter((record) => !now.has(record.fingerprint)),
    stillOpen: current.length - newFingerprints.length,
  };
}
