// Incremental evaluation: the check engine (src/checks/engine.ts) re-run on the objects a batch of
// changes can affect, not on the whole cluster (a full run over 10,000 objects takes 1-2 s; a
// batch of changes takes milliseconds). What a changed object affects:
// - itself;
// - the objects it controls (a replica's pod spec is checked on its owner only while the owner exists);
// - every object of its namespace, when it is a Namespace (checks see `namespaceObject`);
// - derived objects (src/inventory/derive.ts: RBAC EffectivePermissions/RoleUsage, control-plane
//   components), re-derived when a kind they come from changes and compared with the last ones,
//   so a RoleBinding change re-evaluates the subjects it names;
// - every candidate of a check that reads other kinds through `inventory` (its `reads`), when one of
//   those kinds changes (a NetworkPolicy change re-evaluates the namespace-level check): such checks
//   run on the full inventory.
import type { CollectedObject, Finding, K8sObject } from '../model/types.js';
import { Inventory, keyOf, objectKey } from '../inventory/inventory.js';
import { deriveObjects } from '../inventory/derive.js';
import { runChecks } from '../checks/engine.js';
import type { Check } from '../checks/loader.js';
import { WORKLOAD_KINDS, podSpecOf } from '../inventory/podspec.js';
import { dedupeFindings } from '../findings/finding.js';

/** Kinds whose every change can change derived objects; workloads matter only through deriveInput. */
const DERIVATION_SOURCES = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'ServiceAccount']);
const WORKLOADS = new Set(WORKLOAD_KINDS);

/**
 * What derivation reads of a workload: RBAC joins it to its service account (unless its pod spec is
 * its owner's), and kube-system pods become control-plane components. Re-deriving 10,000 objects
 * on every rollout step would cost more than the evaluation itself.
 */
function deriveInput(object: K8sObject | undefined): string {
  if (!object) return '';
  if (object.kind === 'Pod' && object.metadata?.namespace === 'kube-system') return JSON.stringify(object);
  const spec = podSpecOf(object)?.spec;
  const account = spec ? ((spec['serviceAccountName'] as string | undefined) ?? (spec['serviceAccount'] as string | undefined) ?? 'default') : '';
  return JSON.stringify([account, object.metadata?.ownerReferences ?? []]);
}
/** Derived kinds and the kinds they need watched. */
export const DERIVED_KINDS: Record<string, string[]> = {
  ControlPlaneComponent: ['Pod'],
  EffectivePermissions: ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'ServiceAccount', ...WORKLOAD_KINDS],
  RoleUsage: ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'],
};
/** Kinds no API serves: node evidence comes from `kscan node` files, not from a watch. */
const UNWATCHABLE = new Set(['NodeEvidence']);

/** The checks watch mode runs: object checks (audit rules run on audit logs, node checks on node evidence). */
export function watchableChecks(checks: Check[]): Check[] {
  return checks.filter((check) => {
    if (check.match.auditEvents) return false;
    const kinds = check.match.kinds ?? [];
    return Boolean(check.match.workloads) || kinds.some((kind) => !UNWATCHABLE.has(kind));
  });
}

/** The API kinds to list and watch for these checks. */
export function kindsToWatch(checks: Check[]): Set<string> {
  const kinds = new Set<string>(['Namespace']);
  const add = (kind: string) => {
    if (UNWATCHABLE.has(kind)) return;
    if (DERIVED_KINDS[kind]) for (const source of DERIVED_KINDS[kind]) kinds.add(source);
    else kinds.add(kind);
  };
  for (const check of checks) {
    if (check.match.workloads) WORKLOAD_KINDS.forEach(add);
    (check.match.kinds ?? []).forEach(add);
    (check.reads ?? []).forEach(add);
  }
  return kinds;
}

export interface EvaluationStats {
  /** Objects whose findings were recomputed. */
  affected: number;
  fullChecks: number;
  ms: number;
}

export class WatchEvaluator {
  /** Every open finding by fingerprint. */
  readonly findings = new Map<string, Finding>();
  private readonly objects = new Map<string, CollectedObject>();
  private derived = new Map<string, { item: CollectedObject; json: string }>();
  private readonly byObject = new Map<string, Finding[]>();
  private readonly byCheck = new Map<string, Finding[]>();
  private readonly dirty = new Set<string>();
  private readonly dirtyKinds = new Set<string>();
  /** Objects per namespace and per controller (uid and kind/namespace/name): what a change reaches. */
  private readonly members = new Map<string, Set<string>>();
  private readonly children = new Map<string, Set<string>>();
  private readonly local: Check[];
  private readonly global: Check[];
  private first = true;
  private rederive = false;

  constructor(checks: Check[]) {
    this.local = checks.filter((check) => !check.reads?.length);
    this.global = checks.filter((check) => check.reads?.length);
  }

  get size(): number {
    return this.objects.size;
  }

  /** The watched objects (not derived ones) as an inventory, for folding events onto workloads. */
  inventory(): Inventory {
    return new Inventory([...this.objects.values()]);
  }

  get pending(): number {
    return this.dirty.size;
  }

  apply(type: 'upsert' | 'delete', object: K8sObject): void {
    const key = keyOf(object);
    const old = this.objects.get(key);
    if (old) this.unindex(key, old.object);
    if (DERIVATION_SOURCES.has(object.kind) || (WORKLOADS.has(object.kind) && (!old || type === 'delete' || deriveInput(old.object) !== deriveInput(object)))) this.rederive = true;
    if (type === 'upsert') {
      this.objects.set(key, { object });
      this.index(key, object);
    } else {
      this.objects.delete(key);
    }
    this.dirty.add(key);
    this.dirtyKinds.add(object.kind);
  }

  /** Re-evaluates what the pending changes affect; returns the fingerprints that may have changed state. */
  evaluate(): { touched: Set<string>; stats: EvaluationStats } {
    const started = performance.now();
    const touched = new Set<string>();
    const dirty = new Set(this.dirty);
    const dirtyKinds = new Set(this.dirtyKinds);
    this.dirty.clear();
    this.dirtyKinds.clear();
    const first = this.first;
    this.first = false;

    // Derived objects: re-derive when a source kind changed, and treat those that differ as changed.
    if (first || this.rederive) {
      this.rederive = false;
      const next = new Map<string, { item: CollectedObject; json: string }>();
      for (const item of deriveObjects([...this.objects.values()])) {
        const key = keyOf(item.object);
        const previous = this.derived.get(key);
        const json = JSON.stringify(item.object);
        // Keep the previous object when nothing changed, so nothing re-evaluates it.
        next.set(key, previous && previous.json === json ? previous : { item, json });
        if (!previous || previous.json !== json) {
          dirty.add(key);
          dirtyKinds.add(item.object.kind);
        }
      }
      for (const [key, { item }] of this.derived) {
        if (!next.has(key)) {
          dirty.add(key);
          dirtyKinds.add(item.object.kind);
        }
      }
      this.derived = next;
    }
    const lookup = (key: string) => this.objects.get(key) ?? this.derived.get(key)?.item;

    // What the changes reach.
    const affected = first ? new Set([...this.objects.keys(), ...this.derived.keys()]) : new Set(dirty);
    if (!first) {
      for (const key of dirty) {
        for (const child of this.children.get(key) ?? []) affected.add(child);
        const [kind, , name] = key.split('/');
        if (kind === 'Namespace') for (const member of this.members.get(name) ?? []) affected.add(member);
      }
      for (const key of [...affected]) {
        const uid = lookup(key)?.object.metadata?.uid;
        if (uid) for (const child of this.children.get(`uid:${uid}`) ?? []) affected.add(child);
      }
    }

    // Object-local checks on a small inventory: the affected objects, their controllers and namespaces.
    const sub = new Map<string, CollectedObject>();
    for (const key of affected) {
      const item = lookup(key);
      if (!item) continue;
      sub.set(key, item);
      const namespace = item.object.metadata?.namespace;
      if (namespace) {
        const ns = this.objects.get(objectKey('Namespace', undefined, namespace));
        if (ns) sub.set(keyOf(ns.object), ns);
      }
      for (const ref of item.object.metadata?.ownerReferences ?? []) {
        const owner = this.objects.get(objectKey(ref.kind, namespace, ref.name));
        if (owner) sub.set(keyOf(owner.object), owner);
      }
    }
    const found = new Map<string, Finding[]>();
    if (sub.size && this.local.length) {
      const result = runChecks(first ? new Inventory([...this.objects.values(), ...[...this.derived.values()].map((d) => d.item)]) : new Inventory([...sub.values()]), this.local);
      for (const finding of dedupeFindings(result.findings)) {
        const key = objectKey(finding.object.kind, finding.object.namespace, finding.object.name);
        let list = found.get(key);
        if (!list) found.set(key, (list = []));
        list.push(finding);
      }
    }
    for (const key of affected) this.replace(this.byObject, key, lookup(key) ? (found.get(key) ?? []) : [], touched);

    // Checks that read other kinds: on the full inventory, when what they read or match changed.
    let fullChecks = 0;
    const rerun = this.global.filter((check) => first || [...(check.reads ?? []), ...(check.match.kinds ?? [])].some((kind) => dirtyKinds.has(kind)) || (check.match.workloads && WORKLOAD_KINDS.some((kind) => dirtyKinds.has(kind))) || dirtyKinds.has('Namespace'));
    if (rerun.length) {
      const inventory = new Inventory([...this.objects.values(), ...[...this.derived.values()].map((d) => d.item)]);
      const result = runChecks(inventory, rerun);
      for (const check of rerun) this.replace(this.byCheck, check.id, dedupeFindings(result.findings.filter((f) => f.checkId === check.id)), touched);
      fullChecks = rerun.length;
    }
    return { touched, stats: { affected: affected.size, fullChecks, ms: performance.now() - started } };
  }

  private replace(map: Map<string, Finding[]>, key: string, next: Finding[], touched: Set<string>): void {
    for (const finding of map.get(key) ?? []) {
      this.findings.delete(finding.fingerprint);
      touched.add(finding.fingerprint);
    }
    if (next.length) map.set(key, next);
    else map.delete(key);
    for (const finding of next) {
      this.findings.set(finding.fingerprint, finding);
      touched.add(finding.fingerprint);
    }
  }

  private index(key: string, object: K8sObject): void {
    const namespace = object.metadata?.namespace;
    if (namespace) addTo(this.members, namespace, key);
    for (const ref of object.metadata?.ownerReferences ?? []) {
      if (ref.uid) addTo(this.children, `uid:${ref.uid}`, key);
      addTo(this.children, objectKey(ref.kind, namespace, ref.name), key);
    }
  }

  private unindex(key: string, object: K8sObject): void {
    const namespace = object.metadata?.namespace;
    if (namespace) this.members.get(namespace)?.delete(key);
    for (const ref of object.metadata?.ownerReferences ?? []) {
      if (ref.uid) this.children.get(`uid:${ref.uid}`)?.delete(key);
      this.children.get(objectKey(ref.kind, namespace, ref.name))?.delete(key);
    }
  }
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}
