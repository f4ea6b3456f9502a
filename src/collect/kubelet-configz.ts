// The kubelet's running config, read through the API server by live collection (live.ts):
// GET /api/v1/nodes/<node>/proxy/configz answers {"kubeletconfig": {...}}, the KubeletConfiguration
// the kubelet actually runs with (its config file with defaults and command-line flags already
// applied). It needs `get nodes/proxy`, which kscan's read-only ClusterRole does not grant: a 403 or
// an unreachable kubelet is one coverage error per node, never a failed scan. This module holds no
// transport, so the inventory can use it without loading the Kubernetes client.
//
// Each answer is kept as an object of its own, so snapshots store and replay it like any other
// (objects/kscan.io_v1_KubeletConfigz.jsonl):
//
//   apiVersion: kscan.io/v1
//   kind: KubeletConfigz
//   metadata: { name: <node> }
//   kubeletconfig: { authentication: {...}, authorization: {...}, readOnlyPort: 10255, ... }
//
// src/inventory/derive.ts turns it into kubelet evidence for nodes that have no `kscan node` document.
import type { K8sObject } from '../model/types.js';

export const KUBELET_CONFIGZ_API_VERSION = 'kscan.io/v1';
export const KUBELET_CONFIGZ_KIND = 'KubeletConfigz';

export interface KubeletConfigz extends K8sObject {
  apiVersion: typeof KUBELET_CONFIGZ_API_VERSION;
  kind: typeof KUBELET_CONFIGZ_KIND;
  metadata: { name: string };
  kubeletconfig: Record<string, unknown>;
}

export function isKubeletConfigz(object: K8sObject): object is KubeletConfigz {
  return object.kind === KUBELET_CONFIGZ_KIND && object.apiVersion === KUBELET_CONFIGZ_API_VERSION && typeof object['kubeletconfig'] === 'object' && object['kubeletconfig'] !== null;
}

/** staticPodURLHeader may carry credentials for the static pod URL: keep the header names only. */
function redact(config: Record<string, unknown>): Record<string, unknown> {
  const headers = config['staticPodURLHeader'];
  if (!headers || typeof headers !== 'object') return config;
  return { ...config, staticPodURLHeader: Object.fromEntries(Object.keys(headers).map((name) => [name, ['<redacted>']])) };
}

/** The object kept for one node's configz answer; throws when the answer holds no kubeletconfig. */
export function kubeletConfigzObject(node: string, body: unknown): KubeletConfigz {
  const config = (body as { kubeletconfig?: unknown } | null)?.kubeletconfig;
  if (!config || typeof config !== 'object' || Array.isArray(config)) throw new Error('the answer has no kubeletconfig object');
  return { apiVersion: KUBELET_CONFIGZ_API_VERSION, kind: KUBELET_CONFIGZ_KIND, metadata: { name: node }, kubeletconfig: redact(config as Record<string, unknown>) };
}

/** Settings the kubelet checks read: [configz path, kubelet flag]. */
const COMPARED: [string, string][] = [
  ['authentication.anonymous.enabled', 'anonymous-auth'],
  ['authorization.mode', 'authorization-mode'],
  ['readOnlyPort', 'read-only-port'],
  ['authentication.x509.clientCAFile', 'client-ca-file'],
  ['rotateCertificates', 'rotate-certificates'],
  ['seccompDefault', 'seccomp-default'],
  ['podPidsLimit', 'pod-max-pids'],
];

function at(value: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), value);
}

/**
 * Settings where `kscan node` evidence (flags, else config file) and the running config disagree,
 * compared only where both state a value: the evidence decides, the difference is only a note
 * (a kubelet restarted since, or a config file edited but not yet applied).
 */
export function configzDisagreements(evidence: { flags?: Record<string, string>; config?: Record<string, unknown> }, configz: KubeletConfigz): string[] {
  const out: string[] = [];
  for (const [field, flag] of COMPARED) {
    const running = at(configz.kubeletconfig, field);
    const stated = evidence.flags?.[flag] ?? at(evidence.config, field);
    if (running === undefined || stated === undefined) continue;
    if (String(running) !== String(stated)) out.push(`${field} is ${JSON.stringify(stated)} in the evidence but ${JSON.stringify(running)} in the running config`);
  }
  return out;
}
