// The plain data that flows between stages: collect → inventory → checks → findings → report.
// Nothing here depends on how it was produced, so every stage can be tested and replayed alone.

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Higher is worse; used for sorting and for --fail-on thresholds. */
export const SEVERITY_RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

export function isSeverity(value: unknown): value is Severity {
  return typeof value === 'string' && (SEVERITIES as readonly string[]).includes(value);
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid?: string;
  controller?: boolean;
}

/** A Kubernetes object as served by the API or written in a manifest. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** Where an object came from when it was read from a file: enough to locate any field in it later. */
export interface SourceDocument {
  file: string;
  /** 0-based index of the YAML document within the file (or of the item within a List). */
  index: number;
  /** 1-based line of the document's first line in the file. */
  line: number;
  /** Path of the object inside the document when it is an item of a `kind: List`. */
  prefix?: (string | number)[];
}

/** A file position, 1-based like editors and SARIF. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  /** The cluster it belongs to, in a report over several clusters (kscan report merge, --context a --context b). */
  cluster?: string;
  uid?: string;
}

/** An input problem that did not stop the scan: a bad document, an unreadable file, a failed list. */
export interface InputError {
  /** File path, URL or object reference the error is about. */
  source: string;
  line?: number;
  message: string;
  /** Where it arose: reading input, loading checks, or evaluating a check. */
  stage?: 'collect' | 'load' | 'evaluate' | 'config';
}

export type KindStatus = 'collected' | 'forbidden' | 'failed' | 'skipped';

/** What was (and was not) collected for one kind: every output reports it, nothing is silent. */
export interface KindCoverage {
  group: string;
  version: string;
  kind: string;
  resource?: string;
  namespaced?: boolean;
  status: KindStatus;
  count: number;
  error?: string;
}

export interface Coverage {
  kinds: KindCoverage[];
  errors: InputError[];
}

export interface ClusterInfo {
  name: string;
  server?: string;
  serverVersion?: string;
  platform?: string;
}

/** Everything one collection produced, whichever source it came from. */
export interface Collection {
  source: 'cluster' | 'snapshot' | 'manifests';
  cluster?: ClusterInfo;
  collectedAt: string;
  objects: CollectedObject[];
  coverage: Coverage;
  /** Image scan results (trivy JSON / CycloneDX) found beside the objects, e.g. a snapshot's images/. */
  images?: { file: string; content: string }[];
}

/** A collection with no objects: for inputs that are not objects (audit logs, image scan results alone). */
export function emptyCollection(collectedAt: Date): Collection {
  return { source: 'manifests', collectedAt: collectedAt.toISOString(), objects: [], coverage: { kinds: [], errors: [] } };
}

export interface CollectedObject {
  object: K8sObject;
  source?: SourceDocument;
}

export type FrameworkControls = Record<string, string[]>;

/** The one canonical result of a check on an object; every output renders these. */
export interface Finding {
  /** Stable across runs: hash of check id + object identity + field path. */
  fingerprint: string;
  checkId: string;
  title: string;
  severity: Severity;
  category: string;
  object: ObjectRef;
  /** Dotted field path into the object, e.g. spec.template.spec.containers[1].securityContext.privileged */
  path: string;
  /** Present when the object came from a file. */
  location?: SourcePosition;
  message: string;
  remediation: string;
  controls: FrameworkControls;
  /** What was observed, for findings from events rather than objects (audit log rules). */
  evidence?: FindingEvidence;
}

/** The audit event behind a finding; never request or response bodies, so no secret value. */
export interface FindingEvidence {
  timestamp: string;
  auditID?: string;
  user: string;
  verb: string;
  /** resource[/subresource] namespace/name the event touched, e.g. "pods/exec default/web-0". */
  object: string;
  sourceIP?: string;
  userAgent?: string;
  responseCode?: number;
  /** Matching events folded into this finding (same rule, object and principal), and the last one's time. */
  count?: number;
  lastTimestamp?: string;
}
