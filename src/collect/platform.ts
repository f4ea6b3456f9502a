// Which distribution or managed service a cluster runs on, from the API server's version string,
// its API groups and its nodes' labels and provider IDs. Kept free of client libraries so offline
// scans (snapshots, compliance scoring) can use it cheaply.
import type { K8sObject } from '../model/types.js';

/** Best guess of the distribution from the version string, API groups and nodes; undefined when unknown. */
export function guessPlatform(gitVersion: string | undefined, groups: string[], nodes: K8sObject[] = []): string | undefined {
  const v = gitVersion ?? '';
  if (/-eks-/.test(v)) return 'eks';
  if (/-gke\./.test(v)) return 'gke';
  if (/\+k3s/.test(v)) return 'k3s';
  if (/\+rke2/.test(v)) return 'rke2';
  if (groups.includes('config.openshift.io') || groups.includes('route.openshift.io')) return 'openshift';
  for (const node of nodes) {
    const labels = node.metadata.labels ?? {};
    const providerID = String((node.spec as { providerID?: string } | undefined)?.providerID ?? '');
    if (labels['kubernetes.azure.com/cluster'] || providerID.startsWith('azure://')) return 'aks';
    if (labels['eks.amazonaws.com/nodegroup'] || providerID.startsWith('aws://')) return 'eks';
    if (labels['cloud.google.com/gke-nodepool'] || providerID.startsWith('gce://')) return 'gke';
    if (labels['minikube.k8s.io/name']) return 'minikube';
    if (providerID.startsWith('kind://')) return 'kind';
    if (providerID.startsWith('k3s://')) return 'k3s';
  }
  return undefined;
}
