// Inventory: every collected object indexed by identity, plus the owner graph, so checks can
// look up related objects and findings land once on the owning workload, not on every replica.
import type { CollectedObject, K8sObject } from '../model/types.js';
import { podSpecOf } from './podspec.js';

export function objectKey(kind: string, namespace: string | undefined, name: string | undefined): string {
  return `${kind}/${namespace ?? ''}/${name ?? ''}`;
}

export function keyOf(object: K8sObject): string {
  return objectKey(object.kind, object.metadata?.namespace, object.metadata?.name);
}

export class Inventory {
  readonly items: CollectedObject[];
  private readonly byKey = new Map<string, CollectedObject>();
  private readonly byUid = new Map<string, CollectedObject>();
  private readonly byKind = new Map<string, CollectedObject[]>();

  constructor(items: CollectedObject[]) {
    this.items = items;
    for (const item of items) {
      const { object } = item;
      this.byKey.set(keyOf(object), item);
      if (object.metadata?.uid) this.byUid.set(object.metadata.uid, item);
      let list = this.byKind.get(object.kind);
      if (!list) this.byKind.set(object.kind, (list = []));
      list.push(item);
    }
  }

  get size(): number {
    return this.items.length;
  }

  get(kind: string, namespace: string | undefined, name: string): CollectedObject | undefined {
    return this.byKey.get(objectKey(kind, namespace, name));
  }

  ofKind(kind: string): CollectedObject[] {
    return this.byKind.get(kind) ?? [];
  }

  namespace(name: string | undefined): K8sObject | undefined {
    return name ? this.get('Namespace', undefined, name)?.object : undefined;
  }

  /** The controlling owner of an object when that owner was collected too. */
  controller(object: K8sObject): K8sObject | undefined {
    const ref = object.metadata?.ownerReferences?.find((owner) => owner.controller) ?? object.metadata?.ownerReferences?.[0];
    if (!ref) return undefined;
    const owner = (ref.uid && this.byUid.get(ref.uid)) || this.get(ref.kind, object.metadata.namespace, ref.name);
    return owner?.object;
  }

  /** Walks controllers up to the top: Pod → ReplicaSet → Deployment, Pod → Job → CronJob. */
  topOwner(object: K8sObject): K8sObject {
    let current = object;
    const seen = new Set<K8sObject>([current]);
    for (let owner = this.controller(current); owner && !seen.has(owner); owner = this.controller(current)) {
      seen.add(owner);
      current = owner;
    }
    return current;
  }

  /**
   * True when the object's pod spec is a copy of its controller's template (a ReplicaSet's pods,
   * a Deployment's ReplicaSets, a CronJob's Jobs): pod-spec findings belong to the owner.
   */
  podSpecIsOwned(object: K8sObject): boolean {
    const owner = this.controller(object);
    return owner !== undefined && podSpecOf(owner) !== undefined;
  }
}
