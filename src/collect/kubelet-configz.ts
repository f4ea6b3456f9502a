// The kubelet's running config, read through the API server: GET /api/v1/nodes/<node>/proxy/configz
// answers {"kubeletconfig": {...}}, the KubeletConfiguration the kubelet actually runs with (its
// config file with defaults and command-line flags already applied). It needs `get nodes/proxy`,
// which kscan's read-only ClusterRole does not grant by default: a 403 or an unreachable kubelet is
// one coverage error per node, never a failed scan.
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
import type { InputError, K8sObject, KindCoverage } from '../model/types.js';
import { InputFailure } from '../util/errors.js';
import { ApiStatusError, describe, isRetryable, mapLimit, type Client } from './kube/client.js';

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

/** A kubelet behind a dead node must not hold the scan for a minute per retry. */
const CONFIGZ_TIMEOUT_MS = 10_000;
const CONFIGZ_MAX_RETRIES = 2;

/** staticPodURLHeader may carry credentials for the static pod URL: keep the header names only. */
function redact(config: Record<string, unknown>): Record<string, unknown> {
  const headers = config['staticPodURLHeader'];
  if (!headers || typeof headers !== 'object') return config;
  return { ...config, staticPodURLHeader: Object.fromEntries(Object.keys(headers).map((name) => [name, ['<redacted>']])) };
}

export interface ConfigzCollection {
  objects: KubeletConfigz[];
  coverage: KindCoverage;
  errors: InputError[];
}

const COVERAGE_BASE = { group: 'kscan.io', version: 'v1', kind: KUBELET_CONFIGZ_KIND, resource: 'nodes/proxy', namespaced: false } as const;

/**
 * Asks every node's kubelet for its running config, `concurrency` at a time. `nodes` is undefined
 * when Nodes could not be listed, so no kubelet could be asked.
 */
export async function collectKubeletConfigz(client: Client, nodes: string[] | undefined, concurrency: number, maxRetries = CONFIGZ_MAX_RETRIES): Promise<ConfigzCollection> {
  if (!nodes) return { objects: [], errors: [], coverage: { ...COVERAGE_BASE, status: 'skipped', count: 0, error: 'Nodes were not collected, so no kubelet was asked for its running config' } };
  const retries = Math.min(maxRetries, CONFIGZ_MAX_RETRIES);
  const answers = await mapLimit(nodes, concurrency, async (node) => {
    const source = `/api/v1/nodes/${encodeURIComponent(node)}/proxy/configz`;
    try {
      const body = (await client.get(source, {}, 'application/json', true, { timeoutMs: CONFIGZ_TIMEOUT_MS, maxRetries: retries })) as { kubeletconfig?: unknown };
      const config = body?.kubeletconfig;
      if (!config || typeof config !== 'object' || Array.isArray(config)) throw new Error('the answer has no kubeletconfig object');
      const object: KubeletConfigz = { apiVersion: KUBELET_CONFIGZ_API_VERSION, kind: KUBELET_CONFIGZ_KIND, metadata: { name: node }, kubeletconfig: redact(config as Record<string, unknown>) };
      return { object };
    } catch (error) {
      if (error instanceof InputFailure) throw error;
      const forbidden = error instanceof ApiStatusError && error.status === 403;
      const attempts = isRetryable(error) ? ` (gave up after ${retries + 1} attempts)` : '';
      const hint = forbidden ? ' (reading it needs get on nodes/proxy)' : '';
      const message = `kubelet running config of node ${node} not read: ${describe(error)}${attempts}${hint}; its kubelet checks need \`kscan node\` evidence`;
      return { forbidden, error: { source, message, stage: 'collect' as const }, reason: describe(error) };
    }
  });
  const objects = answers.flatMap((a) => (a.object ? [a.object] : []));
  const errors = answers.flatMap((a) => (a.error ? [a.error] : []));
  const failed = nodes.length - objects.length;
  let coverage: KindCoverage;
  if (objects.length || !nodes.length) {
    coverage = { ...COVERAGE_BASE, status: 'collected', count: objects.length, ...(failed ? { error: `not read for ${failed} of ${nodes.length} nodes` } : {}) };
  } else {
    const allForbidden = answers.every((a) => a.forbidden);
    coverage = { ...COVERAGE_BASE, status: allForbidden ? 'forbidden' : 'failed', count: 0, error: answers.find((a) => a.reason)?.reason ?? 'not read' };
  }
  return { objects, coverage, errors };
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
