// The fleet: every container image of every workload, with its digest where the kubelet reported
// one, the top-level workloads that run it, their replicas and how exposed they are.
import type { K8sObject, ObjectRef } from '../model/types.js';
import type { Inventory } from '../inventory/inventory.js';
import { containersOf, formatPath, isRecord, podMetadataOf, podSpecOf, valueAt, WORKLOAD_KINDS } from '../inventory/podspec.js';
import { objectRef } from '../findings/finding.js';
import { displayName, parseImageId, parseImageReference, repositoryKey, type ImageReference } from './reference.js';

export interface Exposure {
  /** Reachable from outside the cluster: LoadBalancer/NodePort Service or Ingress, by name. */
  exposedBy: string[];
  /** Privileged containers or host namespaces. */
  hostAccess: string[];
}

export interface ContainerUse {
  name: string;
  /** Field path of the container's image, e.g. spec.template.spec.containers[0].image. */
  path: string;
}

export interface WorkloadUse {
  workload: K8sObject;
  ref: ObjectRef;
  containers: ContainerUse[];
  /** Running pods of the workload using this image; the desired count when no pods were collected. */
  replicas: number;
  exposure: Exposure;
}

export interface FleetImage {
  /** repository@digest when the digest is known, else the normalized reference. */
  key: string;
  reference: ImageReference;
  /** As users know it: redis:7.2.4. */
  name: string;
  repository: string;
  digest?: string;
  imageId?: string;
  workloads: WorkloadUse[];
  replicas: number;
}

function desiredReplicas(workload: K8sObject): number {
  const spec = isRecord(workload.spec) ? workload.spec : {};
  if (workload.kind === 'Pod') return 1;
  if (workload.kind === 'DaemonSet') return Number(valueAt(workload, ['status', 'desiredNumberScheduled']) ?? 1);
  if (workload.kind === 'CronJob' || workload.kind === 'Job') return 0; // runs on schedule, nothing running now
  return typeof spec.replicas === 'number' ? spec.replicas : 1;
}

function labelsMatch(selector: unknown, labels: Record<string, unknown>): boolean {
  if (!isRecord(selector) || !Object.keys(selector).length) return false;
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/** Services and Ingresses that make a workload's pods reachable from outside the cluster. */
class ExposureIndex {
  private readonly external: { namespace?: string; selector: unknown; label: string }[] = [];
  private readonly ingressServices = new Map<string, string[]>();

  constructor(inventory: Inventory) {
    const services = inventory.ofKind('Service').map((item) => item.object);
    for (const ingress of inventory.ofKind('Ingress').map((item) => item.object)) {
      const names = new Set<string>();
      const collect = (backend: unknown) => {
        const name = valueAt(backend, ['service', 'name']) ?? valueAt(backend, ['serviceName']);
        if (typeof name === 'string') names.add(name);
      };
      collect(valueAt(ingress, ['spec', 'defaultBackend']));
      for (const rule of (valueAt(ingress, ['spec', 'rules']) as unknown[]) ?? []) {
        for (const p of (valueAt(rule, ['http', 'paths']) as unknown[]) ?? []) collect(valueAt(p, ['backend']));
      }
      for (const name of names) {
        const key = `${ingress.metadata.namespace ?? ''}/${name}`;
        this.ingressServices.set(key, [...(this.ingressServices.get(key) ?? []), `Ingress/${ingress.metadata.name}`]);
      }
    }
    for (const service of services) {
      const type = valueAt(service, ['spec', 'type']);
      const selector = valueAt(service, ['spec', 'selector']);
      const ns = service.metadata.namespace;
      if (type === 'LoadBalancer' || type === 'NodePort') this.external.push({ namespace: ns, selector, label: `Service/${service.metadata.name} (${type})` });
      for (const ingress of this.ingressServices.get(`${ns ?? ''}/${service.metadata.name}`) ?? []) this.external.push({ namespace: ns, selector, label: ingress });
    }
  }

  exposedBy(namespace: string | undefined, podLabels: Record<string, unknown>): string[] {
    return this.external.filter((e) => (e.namespace ?? '') === (namespace ?? '') && labelsMatch(e.selector, podLabels)).map((e) => e.label);
  }
}

function hostAccess(spec: Record<string, unknown>): string[] {
  const access = ['hostNetwork', 'hostPID', 'hostIPC'].filter((field) => spec[field] === true);
  const privileged = [spec.initContainers, spec.containers].flatMap((l) => (Array.isArray(l) ? l : [])).some((c) => valueAt(c, ['securityContext', 'privileged']) === true);
  return privileged ? ['privileged', ...access] : access;
}

const STATUS_FIELDS: Record<string, string> = { initContainers: 'initContainerStatuses', containers: 'containerStatuses', ephemeralContainers: 'ephemeralContainerStatuses' };

/** Builds the fleet from the inventory: pods give digests and replica counts; workloads without pods give their spec. */
export function buildFleet(inventory: Inventory): FleetImage[] {
  const exposure = new ExposureIndex(inventory);
  const images = new Map<string, FleetImage>();
  const exposureOf = new Map<K8sObject, Exposure>();
  const workloadsWithPods = new Set<K8sObject>();

  /** Image keys already counted for each pod (or workload, when no pods were collected). */
  const counted = new Map<object, Set<string>>();
  const use = (imageText: string, identity: { digest?: string; imageId?: string }, workload: K8sObject, container: ContainerUse, pods: number, podId: object) => {
    const reference = parseImageReference(imageText);
    const digest = identity.digest ?? reference.digest;
    const key = digest ? `${repositoryKey(reference)}@${digest}` : `${repositoryKey(reference)}:${reference.tag ?? 'latest'}`;
    let image = images.get(key);
    if (!image) {
      image = { key, reference, name: displayName(reference), repository: repositoryKey(reference), workloads: [], replicas: 0 };
      if (digest) image.digest = digest;
      images.set(key, image);
    }
    if (identity.imageId && !image.imageId) image.imageId = identity.imageId;
    let entry = image.workloads.find((w) => w.workload === workload);
    if (!entry) {
      let workloadExposure = exposureOf.get(workload);
      if (!workloadExposure) {
        const view = podSpecOf(workload)!;
        const labels = podMetadataOf(workload, view.path).labels;
        workloadExposure = { exposedBy: exposure.exposedBy(workload.metadata.namespace, isRecord(labels) ? labels : {}), hostAccess: hostAccess(view.spec) };
        exposureOf.set(workload, workloadExposure);
      }
      entry = { workload, ref: objectRef(workload), containers: [], replicas: 0, exposure: workloadExposure };
      image.workloads.push(entry);
    }
    if (!entry.containers.some((c) => c.path === container.path)) entry.containers.push(container);
    // A pod counts once per image, however many of its containers (init containers too) run it.
    let seen = counted.get(podId);
    if (!seen) counted.set(podId, (seen = new Set()));
    if (seen.has(key)) return;
    seen.add(key);
    entry.replicas += pods;
    image.replicas += pods;
  };

  for (const { object: pod } of inventory.ofKind('Pod')) {
    const view = podSpecOf(pod);
    if (!view) continue;
    const phase = valueAt(pod, ['status', 'phase']);
    const running = phase === undefined || phase === 'Running' || phase === 'Pending' ? 1 : 0;
    // The top owner that has a pod spec: static pods are owned by their Node, which runs no containers.
    const owner = inventory.topOwner(pod);
    const top = podSpecOf(owner) ? owner : pod;
    const topView = podSpecOf(top) ?? view;
    if (top !== pod) workloadsWithPods.add(top);
    for (const { container, path } of containersOf(view)) {
      if (typeof container.image !== 'string') continue;
      const field = String(path[path.length - 2]);
      const statuses = valueAt(pod, ['status', STATUS_FIELDS[field]]);
      const status = Array.isArray(statuses) ? statuses.find((s) => isRecord(s) && s.name === container.name) : undefined;
      // The finding points at the owner's template field when the pod belongs to a workload.
      const ownerPath = [...topView.path, ...path.slice(view.path.length), 'image'];
      use(container.image, parseImageId(isRecord(status) ? (status.imageID as string | undefined) : undefined), top, { name: String(container.name ?? ''), path: formatPath(ownerPath) }, running, pod);
    }
  }
  for (const kind of WORKLOAD_KINDS) {
    if (kind === 'Pod') continue;
    for (const { object } of inventory.ofKind(kind)) {
      if (workloadsWithPods.has(object) || inventory.podSpecIsOwned(object)) continue;
      const view = podSpecOf(object);
      if (!view) continue;
      const replicas = desiredReplicas(object);
      for (const { container, path } of containersOf(view)) {
        if (typeof container.image !== 'string') continue;
        use(container.image, {}, object, { name: String(container.name ?? ''), path: formatPath([...path, 'image']) }, replicas, object);
      }
    }
  }
  return [...images.values()].sort((a, b) => a.name.localeCompare(b.name) || (a.digest ?? '').localeCompare(b.digest ?? ''));
}

export function workloadLabel(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace ? ref.namespace + '/' : ''}${ref.name}`;
}
