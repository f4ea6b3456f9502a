// A normalized view of the pod spec inside every pod-bearing kind, with the path to it, so checks
// are written once against the pod spec and findings still point at the real field.
import type { K8sObject } from '../model/types.js';

export type FieldPath = (string | number)[];

/** Where each pod-bearing kind keeps its pod spec. */
const POD_SPEC_PATHS: Record<string, FieldPath> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  PodTemplate: ['template', 'spec'],
};

export const WORKLOAD_KINDS: readonly string[] = Object.keys(POD_SPEC_PATHS).filter((kind) => kind !== 'PodTemplate');

export interface PodSpecView {
  spec: Record<string, unknown>;
  path: FieldPath;
}

export interface ContainerView {
  container: Record<string, unknown>;
  path: FieldPath;
}

export function podSpecOf(object: K8sObject): PodSpecView | undefined {
  const path = POD_SPEC_PATHS[object.kind];
  if (!path) return undefined;
  const spec = valueAt(object, path);
  return isRecord(spec) ? { spec, path } : undefined;
}

/** Metadata of the pods the object runs: the template's (…template.metadata) or a Pod's own. */
export function podMetadataOf(object: K8sObject, podSpecPath: FieldPath): Record<string, unknown> {
  const metadata = valueAt(object, [...podSpecPath.slice(0, -1), 'metadata']);
  return isRecord(metadata) ? metadata : {};
}

const CONTAINER_FIELDS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

/** Init, regular and ephemeral containers, each with its own path. */
export function containersOf(view: PodSpecView): ContainerView[] {
  const result: ContainerView[] = [];
  for (const field of CONTAINER_FIELDS) {
    const list = view.spec[field];
    if (!Array.isArray(list)) continue;
    list.forEach((container, index) => {
      if (isRecord(container)) result.push({ container, path: [...view.path, field, index] });
    });
  }
  return result;
}

export function valueAt(root: unknown, path: FieldPath): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** spec.template.spec.containers[1].securityContext: the notation users see in findings. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

/** Parses a dotted path with [n] indexes: "spec.ports[0].nodePort" → ['spec','ports',0,'nodePort']. */
export function parsePath(text: string): FieldPath {
  const path: FieldPath = [];
  const pattern = /([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g;
  for (const match of text.matchAll(pattern)) {
    if (match[1] !== undefined) path.push(match[1]);
    else if (match[2] !== undefined) path.push(Number(match[2]));
    else path.push(JSON.parse(`"${match[3]}"`) as string);
  }
  return path;
}
