// Derived objects: synthetic inventory objects computed from collected ones, so checks stay simple
// CEL over one object. Derivation runs when a scan (or a fixture test) builds its inventory.
//
// ControlPlaneComponent (apiVersion kscan.io/v1): one per control-plane static pod in kube-system
// (kube-apiserver, kube-controller-manager, kube-scheduler, etcd), as kubeadm and most self-managed
// distributions run them. It carries the component, the node, and the container's command-line
// flags parsed into a map (`--profiling=false` → flags.profiling == "false"; a bare `--flag` is
// "true"; etcd's ETCD_* environment variables count as flags too), so a check reads
// `object.flags['profiling']` instead of scanning argument lists:
//
//   apiVersion: kscan.io/v1
//   kind: ControlPlaneComponent
//   metadata: { name: kube-apiserver-cp-1, namespace: kube-system }
//   component: kube-apiserver
//   node: cp-1
//   image: registry.k8s.io/kube-apiserver:v1.29.4
//   flags: { authorization-mode: "Node,RBAC", secure-port: "6443", ... }
//   pod: { namespace: kube-system, name: kube-apiserver-cp-1 }
//
// A managed control plane (EKS, AKS, GKE) has no such pods: no ControlPlaneComponent objects, and
// coverage says so, so the control-plane controls are not evaluated rather than passed.
//
// NodeEvidence from a kubelet's running config (KubeletConfigz, src/collect/kubelet-configz.ts), for
// a node with no `kscan node` document: only its `kubelet` part, with the running config as
// `kubelet.config` and no flags (they are already applied in it). The kubelet checks read it like
// evidence from the node; the file checks (`files`, `pki`) find nothing to look at, so their
// controls stay not evaluated. A node's own evidence always wins, so nothing is judged twice:
//
//   apiVersion: kscan.io/v1
//   kind: NodeEvidence
//   metadata: { name: worker-1 }
//   nodeName: worker-1
//   kubelet: { source: configz, running: true, flags: {}, configPath: ..., config: { ...kubeletconfig } }
import path from 'node:path';
import type { Collection, CollectedObject, K8sObject, KindCoverage } from '../model/types.js';
import { parseCommandLineFlags } from '../util/command-line.js';
import { deriveRbacObjects } from '../rbac/derive.js';
import { isKubeletConfigz } from '../collect/kubelet-configz.js';
import { NODE_EVIDENCE_API_VERSION, NODE_EVIDENCE_KIND } from '../collect/node-evidence.js';

export const DERIVED_API_VERSION = 'kscan.io/v1';
export const CONTROL_PLANE_KIND = 'ControlPlaneComponent';
export const CONTROL_PLANE_COMPONENTS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'] as const;

interface ContainerLike {
  name?: string;
  image?: string;
  command?: unknown;
  args?: unknown;
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** The component a kube-system pod runs, and its container, or undefined for any other pod. */
function componentOf(pod: K8sObject): { component: string; container: ContainerLike } | undefined {
  const spec = pod['spec'] as { containers?: ContainerLike[] } | undefined;
  for (const container of spec?.containers ?? []) {
    const command = strings(container.command);
    // The executable names the component (`kube-apiserver`, `/usr/local/bin/etcd`); an image
    // entrypoint with only args is recognised by kubeadm's pod and container naming.
    const executable = command.length ? path.posix.basename(command[0]!) : '';
    const byName = CONTROL_PLANE_COMPONENTS.find((c) => c === container.name && (pod.metadata.name ?? '').startsWith(`${c}-`));
    const component = CONTROL_PLANE_COMPONENTS.find((c) => c === executable) ?? (command.length ? undefined : byName);
    if (component) return { component, container };
  }
  return undefined;
}

/** etcd also reads its flags from ETCD_<FLAG> variables (ETCD_CLIENT_CERT_AUTH → client-cert-auth); flags win. */
function etcdEnvironmentFlags(container: ContainerLike & { env?: unknown }): Record<string, string> {
  const flags: Record<string, string> = {};
  for (const entry of Array.isArray(container.env) ? (container.env as { name?: unknown; value?: unknown }[]) : []) {
    if (typeof entry?.name === 'string' && entry.name.startsWith('ETCD_') && typeof entry.value === 'string') {
      flags[entry.name.slice('ETCD_'.length).toLowerCase().replace(/_/g, '-')] = entry.value;
    }
  }
  return flags;
}

function controlPlaneComponent(item: CollectedObject): CollectedObject | undefined {
  const pod = item.object;
  if (pod.kind !== 'Pod' || pod.metadata?.namespace !== 'kube-system') return undefined;
  const found = componentOf(pod);
  if (!found) return undefined;
  const command = strings(found.container.command);
  const args = [...command.slice(1), ...strings(found.container.args)];
  const nodeName = (pod['spec'] as { nodeName?: string } | undefined)?.nodeName;
  const object: K8sObject = {
    apiVersion: DERIVED_API_VERSION,
    kind: CONTROL_PLANE_KIND,
    metadata: {
      name: pod.metadata.name,
      namespace: pod.metadata.namespace,
      ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}),
      ...(pod.metadata.annotations ? { annotations: pod.metadata.annotations } : {}),
    },
    component: found.component,
    ...(nodeName ? { node: nodeName } : {}),
    ...(found.container.image ? { image: found.container.image } : {}),
    flags: found.component === 'etcd' ? { ...etcdEnvironmentFlags(found.container), ...parseCommandLineFlags(args) } : parseCommandLineFlags(args),
    pod: { namespace: pod.metadata.namespace, name: pod.metadata.name },
  };
  // Same source document as the pod: a finding on a manifest file points into that file.
  return { object, ...(item.source ? { source: item.source } : {}) };
}

/** Shown in kubelet findings where a check names the config file the setting came from. */
export const CONFIGZ_CONFIG_PATH = 'the running config (nodes/proxy configz)';

/** Kubelet evidence from the running config of nodes that have no `kscan node` document. */
function kubeletEvidenceFromConfigz(items: readonly CollectedObject[]): CollectedObject[] {
  const withEvidence = new Set<string>();
  const configz: CollectedObject[] = [];
  for (const item of items) {
    if (item.object.kind === NODE_EVIDENCE_KIND && item.object.apiVersion === NODE_EVIDENCE_API_VERSION) withEvidence.add(item.object.metadata.name ?? '');
    else if (isKubeletConfigz(item.object)) configz.push(item);
  }
  const out: CollectedObject[] = [];
  for (const item of configz) {
    const name = item.object.metadata.name ?? '';
    if (withEvidence.has(name)) continue;
    withEvidence.add(name);
    const object: K8sObject = {
      apiVersion: NODE_EVIDENCE_API_VERSION,
      kind: NODE_EVIDENCE_KIND,
      metadata: { name, ...(item.object.metadata.annotations ? { annotations: item.object.metadata.annotations } : {}) },
      nodeName: name,
      kubelet: { source: 'configz', running: true, flags: {}, configPath: CONFIGZ_CONFIG_PATH, config: item.object['kubeletconfig'] },
    };
    out.push({ object, ...(item.source ? { source: item.source } : {}) });
  }
  return out;
}

/** The derived objects for a set of collected ones. */
export function deriveObjects(items: readonly CollectedObject[]): CollectedObject[] {
  const out: CollectedObject[] = [];
  for (const item of items) {
    const component = controlPlaneComponent(item);
    if (component) out.push(component);
  }
  out.push(...kubeletEvidenceFromConfigz(items));
  // EffectivePermissions per subject and RoleUsage per role (src/rbac/derive.ts).
  out.push(...deriveRbacObjects(items));
  return out;
}

/**
 * Coverage for the derived kinds, so "no ControlPlaneComponent" reads as "not visible" (managed
 * control plane, or Pods not collected) and never as "passed". Manifest scans report the kind only
 * when something was derived.
 */
export function derivedCoverage(collection: Collection, derived: readonly CollectedObject[]): KindCoverage[] {
  const count = derived.filter((item) => item.object.kind === CONTROL_PLANE_KIND).length;
  const base = { group: 'kscan.io', version: 'v1', kind: CONTROL_PLANE_KIND, resource: 'controlplanecomponents', namespaced: true };
  if (count) return [{ ...base, status: 'collected', count }];
  if (collection.source === 'manifests') return [];
  const pods = collection.coverage.kinds.find((k) => k.group === '' && k.kind === 'Pod');
  if (pods && pods.status !== 'collected') return [{ ...base, status: pods.status, count: 0, error: `derived from kube-system Pods, which were not collected (${pods.status})` }];
  return [{ ...base, status: 'collected', count: 0, error: 'no control-plane static pods in kube-system: the control plane is managed by the provider or not visible to the API' }];
}
