// The canonical Finding: every output renders these and nothing else.
import { createHash } from 'node:crypto';
import type { Finding, K8sObject, ObjectRef, Severity, SourcePosition, FrameworkControls } from '../model/types.js';
import { SEVERITY_RANK } from '../model/types.js';
import { splitApiVersion } from '../collect/snapshot.js';

export interface FindingSource {
  id: string;
  title: string;
  severity: Severity;
  category: string;
  remediation: string;
  controls: FrameworkControls;
}

export function objectRef(object: K8sObject): ObjectRef {
  const ref: ObjectRef = { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata?.name ?? object.metadata?.generateName ?? '' };
  if (object.metadata?.namespace) ref.namespace = object.metadata.namespace;
  if (object.metadata?.uid) ref.uid = object.metadata.uid;
  return ref;
}

/**
 * Stable identity of a finding across runs and sources: check, object group/kind/namespace/name
 * and field path. The API version and uid are left out on purpose: migrating a Deployment to a
 * new apiVersion, or recreating it, is still the same finding.
 */
export function fingerprint(checkId: string, ref: ObjectRef, path: string): string {
  const { group } = splitApiVersion(ref.apiVersion);
  return createHash('sha256').update([checkId, group, ref.kind, ref.namespace ?? '', ref.name, path].join('\u0000')).digest('hex').slice(0, 32);
}

export function makeFinding(check: FindingSource, object: K8sObject, path: string, message: string, location?: SourcePosition): Finding {
  const ref = objectRef(object);
  const finding: Finding = {
    fingerprint: fingerprint(check.id, ref, path),
    checkId: check.id,
    title: check.title,
    severity: check.severity,
    category: check.category,
    object: ref,
    path,
    message,
    remediation: check.remediation,
    controls: check.controls,
  };
  if (location) finding.location = location;
  return finding;
}

/** Worst first, then by namespace, kind, name, check and path: a stable order for every output. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
    (a.object.namespace ?? '').localeCompare(b.object.namespace ?? '') ||
    a.object.kind.localeCompare(b.object.kind) ||
    a.object.name.localeCompare(b.object.name) ||
    a.checkId.localeCompare(b.checkId, 'en', { numeric: true }) ||
    a.path.localeCompare(b.path)
  );
}

/** The same finding can arrive twice (an object given in two files): keep the first. */
export function dedupeFindings(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((finding) => !seen.has(finding.fingerprint) && (seen.add(finding.fingerprint), true));
}
