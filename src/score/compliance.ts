// Compliance scoring: every control of every framework in scope gets a status, and scores are
// computed per framework, per section and per namespace.
//
//   percent = passed / (passed + failed) × 100, rounded to one decimal; null when nothing was decided.
//   manual, not-applicable, not-evaluated and provider controls are excluded and counted apart.
//
// A control's status, in order:
//   fail           a finding of a deciding check names the control (the check file is the mapping)
//   provider       a control-plane control on a managed platform (EKS, AKS, GKE)
//   manual         no check decides it; the reason says what to check by hand
//   not-evaluated  a kind its checks need could not be collected (forbidden, failed), or a node or
//                  control-plane control whose evidence is absent (no node evidence, no static pods)
//   not-applicable its checks had nothing to look at (no objects of the kinds they match)
//   pass           its checks looked at objects and found nothing
import type { Check } from '../checks/loader.js';
import { controlsInFramework, getFramework, loadFrameworks, type Framework, type FrameworkControl } from '../checks/frameworks.js';
import { WORKLOAD_KINDS } from '../inventory/podspec.js';
import { guessPlatform } from '../collect/platform.js';
import type { Collection, Finding, KindCoverage } from '../model/types.js';
import type { Inventory } from '../inventory/inventory.js';
import type { ComplianceScore, ControlResult, ControlStatus, FrameworkResult } from '../scan/result.js';
import type { ScanContext, ScanExtension } from '../scan/scan.js';
import { dedupeFindings } from '../findings/finding.js';

export const MANAGED_PLATFORMS: Record<string, string> = { eks: 'Amazon EKS', aks: 'Azure AKS', gke: 'Google GKE' };

/** The managed platform a scan ran against, if any: from the collection's platform, else from the nodes. */
export function managedPlatform(collection: Collection, inventory: Inventory): string | undefined {
  const declared = collection.cluster?.platform?.toLowerCase();
  if (declared && MANAGED_PLATFORMS[declared]) return declared;
  if (declared && declared !== 'unknown') return undefined;
  const nodes = inventory.ofKind('Node').map((item) => item.object);
  const guessed = guessPlatform(collection.cluster?.serverVersion, [], nodes);
  return guessed && MANAGED_PLATFORMS[guessed] ? guessed : undefined;
}

export function emptyScore(): ComplianceScore {
  return { passed: 0, failed: 0, manual: 0, notApplicable: 0, notEvaluated: 0, provider: 0, percent: null };
}

const SCORE_FIELD: Record<ControlStatus, keyof Omit<ComplianceScore, 'percent'>> = {
  pass: 'passed',
  fail: 'failed',
  manual: 'manual',
  'not-applicable': 'notApplicable',
  'not-evaluated': 'notEvaluated',
  provider: 'provider',
};

/** Tallies statuses and applies the formula: passed / (passed + failed) × 100. */
export function scoreOf(statuses: Iterable<ControlStatus>): ComplianceScore {
  const score = emptyScore();
  for (const status of statuses) score[SCORE_FIELD[status]]++;
  const decided = score.passed + score.failed;
  score.percent = decided ? Math.round((score.passed / decided) * 1000) / 10 : null;
  return score;
}

/** Kinds a check looks at: those it matches, the workload kinds, and those it reads through `inventory`. */
export function kindsNeeded(check: Check): string[] {
  const kinds = new Set([...(check.match.kinds ?? []), ...(check.reads ?? [])]);
  if (check.match.workloads) for (const kind of WORKLOAD_KINDS) kinds.add(kind);
  return [...kinds];
}

/** The namespace a finding counts towards: its object's, or a Namespace's own name. */
function findingNamespace(finding: Finding): string {
  return finding.object.namespace ?? (finding.object.kind === 'Namespace' ? finding.object.name : '');
}

function describeKinds(kinds: string[]): string {
  return kinds.length > 4 ? `${kinds.slice(0, 4).join(', ')} and ${kinds.length - 4} more` : kinds.join(', ');
}

interface Evaluation {
  evaluated: Map<string, number>;
  evaluatedByNamespace: Map<string, Map<string, number>>;
}

export interface ComplianceInput {
  collection: Collection;
  inventory: Inventory;
  checks: Check[];
  findings: Finding[];
  evaluation: Evaluation;
  coverage: KindCoverage[];
  /** An audit log was analysed in this scan, so audit-log rules had events to judge. */
  auditLogScanned: boolean;
}

interface ControlState {
  control: FrameworkControl;
  result: ControlResult;
  deciders: Check[];
  findings: Finding[];
  /** Namespaces with findings against the control, computed once for the per-namespace scores. */
  failingNamespaces: Set<string>;
}

function decide(control: FrameworkControl, deciders: Check[], findings: Finding[], input: ComplianceInput, platform: string | undefined): Pick<ControlResult, 'status' | 'reason' | 'objects'> {
  if (findings.length) {
    const objects = new Set(findings.map((f) => `${f.object.kind}/${f.object.namespace ?? ''}/${f.object.name}`)).size;
    return { status: 'fail', objects, reason: `${objects} object${objects === 1 ? '' : 's'} failing` };
  }
  if (platform && control.scope === 'control-plane') {
    return { status: 'provider', reason: `managed control plane (${MANAGED_PLATFORMS[platform]}): the provider's responsibility` };
  }
  if (!deciders.length) return { status: 'manual', reason: control.audit ?? 'no check decides this control: review it by hand' };

  // Audit-log rules judge events, not objects: they looked when an audit log was scanned.
  const auditRules = deciders.filter((check) => check.match.auditEvents);
  const objectChecks = deciders.filter((check) => !check.match.auditEvents);
  if (auditRules.length && input.auditLogScanned) return { status: 'pass' };
  if (!objectChecks.length) return { status: 'not-evaluated', reason: `decided by audit-log rules (${auditRules.map((c) => c.id).join(', ')}): no audit log was scanned` };

  const needed = [...new Set(objectChecks.flatMap(kindsNeeded))];
  const coverageOf = (kind: string) => input.coverage.filter((entry) => entry.kind === kind);
  const missing = needed.flatMap((kind) => coverageOf(kind).filter((entry) => entry.status !== 'collected').map((entry) => `${kind} (${entry.status})`));
  if (missing.length) return { status: 'not-evaluated', reason: `not collected: ${describeKinds(missing)}` };

  const evaluated = objectChecks.reduce((sum, check) => sum + (input.evaluation.evaluated.get(check.id) ?? 0), 0);
  if (evaluated > 0) return { status: 'pass' };
  if (control.scope === 'node' || control.scope === 'control-plane') {
    // Evidence of nodes and the control plane is not an API object every cluster serves: its absence
    // means "could not look", never "nothing to look at".
    const why = needed.map((kind) => coverageOf(kind).find((entry) => entry.error)?.error).find(Boolean);
    const what = control.scope === 'node' ? 'no node evidence (run `kscan node` and pass --node-evidence)' : 'control-plane components not visible';
    return { status: 'not-evaluated', reason: why ? `${what}: ${why}` : `${what}; checks need ${describeKinds(needed)}` };
  }
  const where = input.collection.source === 'manifests' ? 'input' : 'cluster';
  return { status: 'not-applicable', reason: `nothing to check: no ${describeKinds(needed)} in the ${where} matched` };
}

const namespacesSeen = new WeakMap<Inventory, string[]>();

/** The namespaces a scan saw: Namespace objects and the namespaces of namespaced objects (once per inventory, not per framework). */
function namespacesOf(inventory: Inventory): string[] {
  const cached = namespacesSeen.get(inventory);
  if (cached) return cached;
  const names = new Set<string>();
  for (const { object } of inventory.items) {
    if (object.kind === 'Namespace' && object.metadata?.name) names.add(object.metadata.name);
    else if (object.metadata?.namespace) names.add(object.metadata.namespace);
  }
  const sorted = [...names].sort();
  namespacesSeen.set(inventory, sorted);
  return sorted;
}

function namespaceStatus(state: ControlState, namespace: string, input: ComplianceInput): ControlStatus {
  const { status } = state.result;
  if (status !== 'pass' && status !== 'fail') return status;
  if (state.failingNamespaces.has(namespace)) return 'fail';
  const evaluated = state.deciders.some((check) => (input.evaluation.evaluatedByNamespace.get(check.id)?.get(namespace) ?? 0) > 0);
  return evaluated ? 'pass' : 'not-applicable';
}

export function evaluateFramework(framework: Framework, input: ComplianceInput): FrameworkResult {
  const platform = managedPlatform(input.collection, input.inventory);
  const decidersOf = new Map<string, Check[]>();
  for (const check of input.checks) {
    for (const id of controlsInFramework(check.controls, framework)) {
      let list = decidersOf.get(id);
      if (!list) decidersOf.set(id, (list = []));
      list.push(check);
    }
  }
  const findingsOf = new Map<string, Finding[]>();
  for (const finding of input.findings) {
    for (const id of controlsInFramework(finding.controls, framework)) {
      let list = findingsOf.get(id);
      if (!list) findingsOf.set(id, (list = []));
      list.push(finding);
    }
  }
  const states: ControlState[] = framework.controls.map((control) => {
    const deciders = decidersOf.get(control.id) ?? [];
    const findings = findingsOf.get(control.id) ?? [];
    const decision = decide(control, deciders, findings, input, platform);
    const result: ControlResult = {
      id: control.id,
      title: control.title,
      section: control.section,
      scope: control.scope,
      ...(control.level ? { level: control.level } : {}),
      ...(control.automated !== undefined ? { automated: control.automated } : {}),
      status: decision.status,
      checks: deciders.map((check) => check.id),
      findings: findings.length,
      ...(decision.objects !== undefined ? { objects: decision.objects } : {}),
      ...(decision.reason ? { reason: decision.reason } : {}),
    };
    return { control, result, deciders, findings, failingNamespaces: new Set(findings.map(findingNamespace)) };
  });
  const namespaced = states.filter((state) => state.control.scope === 'namespace');
  return {
    id: framework.id,
    title: framework.title,
    version: framework.version,
    controls: states.map((state) => state.result),
    score: scoreOf(states.map((state) => state.result.status)),
    sections: framework.sections.map((section) => ({
      id: section.id,
      title: section.title,
      score: scoreOf(states.filter((state) => state.control.section === section.id).map((state) => state.result.status)),
    })),
    namespaces: namespaced.length
      ? namespacesOf(input.inventory).map((namespace) => ({ namespace, score: scoreOf(namespaced.map((state) => namespaceStatus(state, namespace, input))) }))
      : [],
  };
}

/** Frameworks to score: those given with --framework, or every framework when none was given. */
export function frameworksInScope(selected: string[]): Framework[] {
  return selected.length ? selected.map(getFramework) : [...loadFrameworks().values()];
}

/** The scan extension: fills result.compliance after every other extension has added its findings. */
export function complianceExtension(): ScanExtension {
  return {
    name: 'compliance',
    last: true,
    run(context: ScanContext): void {
      const input: ComplianceInput = {
        collection: context.collection,
        inventory: context.inventory,
        checks: context.checks,
        findings: dedupeFindings(context.findings),
        evaluation: context.evaluation,
        coverage: context.result.coverage.kinds,
        // The audit extension (src/audit/analyze.ts) adds its report section with id "audit".
        auditLogScanned: (context.result.sections ?? []).some((section) => section.id === 'audit'),
      };
      context.result.compliance = frameworksInScope(context.frameworks).map((framework) => evaluateFramework(framework, input));
    },
  };
}
