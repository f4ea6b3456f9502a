// Evaluates compiled checks over an inventory and turns failures into Findings.
import type { CollectedObject, Finding, InputError, K8sObject, SourcePosition, SourceDocument } from '../model/types.js';
import { Inventory } from '../inventory/inventory.js';
import { containersOf, formatPath, parsePath, podMetadataOf, podSpecOf, valueAt, WORKLOAD_KINDS, type FieldPath } from '../inventory/podspec.js';
import { makeFinding } from '../findings/finding.js';
import type { Check } from './loader.js';
import type { CelContext } from './cel.js';
import { errorMessage } from '../util/errors.js';

/**
 * One evaluation of a check on one object may take this long. A check that goes over it twice is
 * skipped for the remaining objects: a pathological expression is slow on every object, while a
 * GC pause or a descheduled process makes one evaluation slow once (measured: 1 run in 8 under
 * load), and must not change what a scan finds.
 */
export const EVALUATION_BUDGET_MS = 250;
const EVALUATIONS_OVER_BUDGET = 2;
const MAX_ERRORS_PER_CHECK = 5;

export interface Locator {
  locate(source: SourceDocument, path: FieldPath): SourcePosition;
}

export interface EngineResult {
  findings: Finding[];
  errors: InputError[];
  /** Objects each check was evaluated on. */
  evaluated: Map<string, number>;
  /** The same per namespace ("" for cluster-scoped objects): check id → namespace → objects. */
  evaluatedByNamespace: Map<string, Map<string, number>>;
  /** Wall time each check took over the whole inventory, in milliseconds (for --profile). */
  durations: Map<string, number>;
}

/** The `inventory` CEL variable: every kind in the inventory → its objects, built once per run. */
export function inventoryVariable(inventory: Inventory): Record<string, unknown[]> {
  const byKind: Record<string, unknown[]> = {};
  for (const { object } of inventory.items) (byKind[object.kind] ??= []).push(object);
  return byKind;
}

interface Element {
  value: unknown;
  path: FieldPath | undefined;
}

function elementsOf(check: Check, object: K8sObject, podSpecPath: FieldPath | undefined, spec: unknown): Element[] | undefined {
  if (!check.forEach) return undefined;
  if (check.forEach === 'containers') {
    const view = podSpecPath ? { spec: spec as Record<string, unknown>, path: podSpecPath } : undefined;
    return view ? containersOf(view).map(({ container, path }) => ({ value: container, path })) : [];
  }
  const base = check.forEach === 'volumes' ? podSpecRelative('volumes', podSpecPath) : check.forEach.startsWith('podSpec.') ? podSpecRelative(check.forEach.slice('podSpec.'.length), podSpecPath) : parsePath(check.forEach);
  const list = base ? valueAt(object, base) : undefined;
  return Array.isArray(list) ? list.map((value, i) => ({ value, path: [...base!, i] })) : [];
}

function podSpecRelative(path: string, podSpecPath: FieldPath | undefined): FieldPath | undefined {
  return podSpecPath ? [...podSpecPath, ...parsePath(path)] : undefined;
}

function findingPath(check: Check, elementPath: FieldPath | undefined, podSpecPath: FieldPath | undefined): FieldPath {
  if (!check.path) return elementPath ?? [];
  if (check.path.startsWith('podSpec.') && podSpecPath) return podSpecRelative(check.path.slice('podSpec.'.length), podSpecPath)!;
  return [...(elementPath ?? []), ...parsePath(check.path)];
}

/** The longest prefix of the path that exists in the object: a missing field points at its parent. */
function existingPrefix(object: unknown, path: FieldPath): FieldPath {
  let current = object;
  let length = 0;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !(key in (current as object))) break;
    current = (current as Record<string | number, unknown>)[key];
    length++;
  }
  return path.slice(0, length);
}

const TEMPLATE = /\{\{\s*([\w.[\]"-]+)\s*\}\}/g;

export function renderMessage(template: string, context: CelContext): string {
  return template.replace(TEMPLATE, (_, reference: string) => {
    const value = valueAt(context, parsePath(reference));
    return value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  });
}

function matchesNamespace(check: Check, object: K8sObject): boolean {
  const namespace = object.metadata?.namespace ?? '';
  if (check.match.namespaces && !check.match.namespaces.includes(namespace)) return false;
  return !check.match.excludeNamespaces?.includes(namespace);
}

function candidates(check: Check, inventory: Inventory, isOwned: (object: K8sObject) => boolean): CollectedObject[] {
  const kinds = new Set(check.match.kinds ?? []);
  if (check.match.workloads) for (const kind of WORKLOAD_KINDS) kinds.add(kind);
  const out: CollectedObject[] = [];
  for (const kind of kinds) {
    for (const item of inventory.ofKind(kind)) {
      // A replica's pod spec is its owner's template: report once, on the owner.
      if (check.match.workloads && WORKLOAD_KINDS.includes(kind) && isOwned(item.object)) continue;
      if (matchesNamespace(check, item.object)) out.push(item);
    }
  }
  return out;
}

/** The one "element" of a check without forEach: the object itself. */
const WHOLE_OBJECT: readonly Element[] = [{ value: undefined, path: undefined }];

export function runChecks(inventory: Inventory, checks: Check[], locator?: Locator): EngineResult {
  const findings: Finding[] = [];
  const errors: InputError[] = [];
  const evaluated = new Map<string, number>();
  const evaluatedByNamespace = new Map<string, Map<string, number>>();
  const durations = new Map<string, number>();
  const byKind = inventoryVariable(inventory);
  // Every check sees the same context for an object: build it once per object, not once per check.
  // Also per object: one context for forEach checks whose `item` is set per element (evaluation is
  // synchronous, so reusing it is safe), and the elements of each forEach, shared by the checks
  // iterating the same list. Spreading a context per element and re-listing containers per check
  // were a fifth of runChecks' own time on the 10k corpus.
  type Entry = { context: CelContext; view: ReturnType<typeof podSpecOf>; itemContext?: CelContext; elements?: Map<string, Element[] | undefined> };
  const contexts = new Map<K8sObject, Entry>();
  const contextOf = (object: K8sObject) => {
    let entry = contexts.get(object);
    if (!entry) {
      const view = podSpecOf(object);
      const context: CelContext = {
        object,
        podSpec: view?.spec ?? null,
        podMeta: view ? podMetadataOf(object, view.path) : null,
        namespaceObject: inventory.namespace(object.metadata?.namespace) ?? {},
        inventory: byKind,
      };
      contexts.set(object, (entry = { context, view }));
    }
    return entry;
  };
  // Most checks match the same few kind sets (every workload check: workloads: true): list each
  // set's candidates once, and ask once per object whether its pod spec is its owner's.
  const owned = new Map<K8sObject, boolean>();
  const isOwned = (object: K8sObject) => {
    let value = owned.get(object);
    if (value === undefined) owned.set(object, (value = inventory.podSpecIsOwned(object)));
    return value;
  };
  // With each list, its objects' contexts and the ids of the namespaces they count towards (a
  // Namespace counts towards itself, so per-namespace scores see checks on Namespace objects):
  // looked up once per list instead of once per check and object.
  const namespaceIds = new Map<string, number>();
  const namespaceNames: string[] = [];
  const namespaceId = (object: K8sObject) => {
    const name = object.metadata?.namespace ?? (object.kind === 'Namespace' ? (object.metadata?.name ?? '') : '');
    let id = namespaceIds.get(name);
    if (id === undefined) namespaceIds.set(name, (id = namespaceNames.push(name) - 1));
    return id;
  };
  type CandidateList = { items: CollectedObject[]; entries: Entry[]; namespaces: number[] };
  const candidateLists = new Map<string, CandidateList>();
  const candidatesOf = (check: Check) => {
    const { kinds, workloads, namespaces, excludeNamespaces } = check.match;
    const key = JSON.stringify([kinds, workloads, namespaces, excludeNamespaces]);
    let list = candidateLists.get(key);
    if (!list) {
      const items = candidates(check, inventory, isOwned);
      candidateLists.set(key, (list = { items, entries: items.map((item) => contextOf(item.object)), namespaces: items.map((item) => namespaceId(item.object)) }));
    }
    return list;
  };
  // Checks often share a guard (five workload checks skip Windows pods with the same `when`, the
  // RBAC checks skip system subjects): a guard's verdict on an object is computed once per scan.
  const whenVerdicts = new Map<string, Map<K8sObject, unknown>>();
  for (const check of checks) {
    const checkStarted = performance.now();
    let verdicts: Map<K8sObject, unknown> | undefined;
    if (check.when) {
      verdicts = whenVerdicts.get(check.when);
      if (!verdicts) whenVerdicts.set(check.when, (verdicts = new Map()));
    }
    const perNamespace: number[] = [];
    const namespaceOrder: number[] = [];
    let errorCount = 0;
    let count = 0;
    const slow: number[] = [];
    const list = candidatesOf(check);
    for (let i = 0; i < list.items.length; i++) {
      const { object, source } = list.items[i];
      const entry = list.entries[i];
      const { context, view } = entry;
      const started = performance.now();
      try {
        if (verdicts) {
          let verdict = verdicts.get(object);
          if (verdict === undefined) verdicts.set(object, (verdict = check.compiled.when!(context)));
          if (verdict !== true) continue;
        }
        count++;
        const namespace = list.namespaces[i];
        if (perNamespace[namespace] === undefined) {
          perNamespace[namespace] = 0;
          namespaceOrder.push(namespace);
        }
        perNamespace[namespace]++;
        let elements: Element[] | undefined;
        if (check.forEach) {
          entry.elements ??= new Map();
          elements = entry.elements.get(check.forEach);
          if (!elements) entry.elements.set(check.forEach, (elements = elementsOf(check, object, view?.path, view?.spec)));
        }
        const itemContext = elements ? (entry.itemContext ??= { ...context }) : undefined;
        for (const element of elements ?? WHOLE_OBJECT) {
          if (itemContext) itemContext.item = element.value;
          const elementContext = itemContext ?? context;
          const verdict = check.compiled.assert(elementContext);
          if (verdict === true) continue;
          if (verdict !== false) throw new Error(`assert returned ${typeof verdict}, not a boolean`);
          const path = findingPath(check, element.path, view?.path);
          const location = source && locator ? locator.locate(source, existingPrefix(object, path)) : undefined;
          const message = check.compiled.message ? String(check.compiled.message(elementContext)) : renderMessage(check.message, elementContext);
          findings.push(makeFinding(check, object, formatPath(path), message, location));
        }
      } catch (error) {
        if (++errorCount <= MAX_ERRORS_PER_CHECK) {
          errors.push({ source: `${check.id} on ${object.kind}/${object.metadata?.namespace ? object.metadata.namespace + '/' : ''}${object.metadata?.name ?? '?'}`, message: `evaluation failed: ${errorMessage(error).split('\n')[0]}`, stage: 'evaluate' });
        }
      }
      const elapsed = performance.now() - started;
      if (elapsed > EVALUATION_BUDGET_MS && slow.push(elapsed) >= EVALUATIONS_OVER_BUDGET) {
        errors.push({ source: check.id, message: `evaluations took ${slow.map((ms) => ms.toFixed(0)).join(' and ')} ms (limit ${EVALUATION_BUDGET_MS} ms each); check skipped for the remaining objects`, stage: 'evaluate' });
        break;
      }
    }
    if (errorCount > MAX_ERRORS_PER_CHECK) errors.push({ source: check.id, message: `${errorCount - MAX_ERRORS_PER_CHECK} more evaluation errors not shown`, stage: 'evaluate' });
    evaluated.set(check.id, count);
    evaluatedByNamespace.set(check.id, new Map(namespaceOrder.map((id) => [namespaceNames[id], perNamespace[id]])));
    durations.set(check.id, performance.now() - checkStarted);
  }
  return { findings, errors, evaluated, evaluatedByNamespace, durations };
}
