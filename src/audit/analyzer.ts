// Runs every audit event through the summary counters, the rules (pre-filter, then CEL), the
// threshold windows and, with a baseline, the novelty detector. Findings are folded: one per rule,
// object and principal (or threshold group), with the first event as evidence and a count.
import type { Finding, FindingEvidence, InputError, K8sObject } from '../model/types.js';
import { fingerprint, makeFinding, type FindingSource } from '../findings/finding.js';
import { renderMessage } from '../checks/engine.js';
import type { CelContext } from '../checks/cel.js';
import { errorMessage } from '../util/errors.js';
import { eventTime, kindOfResource, resourceKey, type AuditEvent } from './event.js';
import { VerdictMemo, groupValue, isCandidate, readFields, type AuditRule, type EventFields } from './rules.js';
import { AuditSummary, hoursBetween, type AuditReport } from './summary.js';
import { NOVELTY_CHECKS, observe, type NoveltyDetector } from './baseline.js';
import type { ReadStats } from './reader.js';
import { ThresholdWindows } from '../util/threshold.js';

export interface AnalyzerOptions {
  rules: AuditRule[];
  baseline?: { file: string; detector: NoveltyDetector };
  /** Distinct findings kept; later ones are counted only. Default 10,000. */
  maxFindings?: number;
  /** Called for each new finding and each threshold alert, as it happens (the webhook backend streams these). */
  onAlert?: (finding: Finding) => void;
}

const MAX_ERRORS_PER_RULE = 5;
/** Threshold groups kept before the oldest idle ones are dropped. */
const MAX_WINDOW_GROUPS = 50_000;

interface RuleState {
  candidates: number;
  matched: number;
  errors: number;
  /** Remembered verdicts (rules.ts verdictFieldsOf): true when the event passes or is out of scope. */
  verdicts: VerdictMemo | undefined;
}

export class AuditAnalyzer {
  readonly summary = new AuditSummary();
  readonly errors: InputError[] = [];
  events = 0;
  analysed = 0;
  otherStages = 0;
  droppedFindings = 0;
  private readonly folded = new Map<string, Finding>();
  private readonly ruleStates: RuleState[];
  /** Threshold windows per rule (src/util/threshold.ts, shared with watch-mode policies). */
  private readonly windows = new Map<AuditRule, ThresholdWindows>();
  private readonly byVerb = new Map<string, number[]>();
  private readonly fields: EventFields = { username: undefined, verb: undefined, code: undefined };
  private readonly maxFindings: number;

  /** Rule parameter lists named nodeAddresses: they learn the addresses kubelets call from. */
  private readonly nodeAddressLists: unknown[][];
  private readonly nodeAddresses = new Set<string>();

  constructor(private readonly options: AnalyzerOptions) {
    this.ruleStates = options.rules.map((rule) => ({ candidates: 0, matched: 0, errors: 0, verdicts: rule.verdictFields ? new VerdictMemo(rule.verdictFields) : undefined }));
    this.nodeAddressLists = [];
    for (const rule of options.rules) {
      if (!Array.isArray(rule.params.nodeAddresses)) continue;
      // A copy per run: the rule's own list must not grow across analyses.
      const list = [...(rule.params.nodeAddresses as unknown[])];
      rule.params = { ...rule.params, nodeAddresses: list };
      this.nodeAddressLists.push(list);
    }
    this.maxFindings = options.maxFindings ?? 10_000;
  }

  /** The hot path: called once per event read. */
  add(event: AuditEvent): void {
    this.events++;
    const stage = event.stage;
    // A request is logged at several stages; analyse it once, when its response is known.
    if (stage === 'RequestReceived' || stage === 'ResponseStarted') {
      this.otherStages++;
      return;
    }
    this.analysed++;
    const time = eventTime(event);
    const fields = readFields(event, this.fields);
    const user = fields.username ?? '(unknown)';
    const verb = fields.verb ?? '(none)';
    const resource = resourceKey(event);
    this.summary.add(event, time, user, verb, resource, fields.code);
    if (this.nodeAddressLists.length && user.startsWith('system:node:')) this.learnNodeAddress(event.sourceIPs?.[0]);
    const rules = this.options.rules;
    for (const i of this.rulesForVerb(verb)) {
      if (isCandidate(rules[i], event, verb, resource, fields)) this.evaluate(i, event, time, user, resource);
    }
    if (this.options.baseline) this.compareWithBaseline(event, time, user, verb, resource);
  }

  /** The rules whose verb filter lets `verb` through, so most rules are not even asked about most events. */
  private rulesForVerb(verb: string): number[] {
    let list = this.byVerb.get(verb);
    if (!list) {
      list = this.options.rules.flatMap((rule, i) => (!rule.verbs || rule.verbs.has(verb) ? [i] : []));
      if (this.byVerb.size < 100) this.byVerb.set(verb, list);
    }
    return list;
  }

  private learnNodeAddress(ip: string | undefined): void {
    if (!ip || this.nodeAddresses.has(ip) || this.nodeAddresses.size >= 10_000) return;
    this.nodeAddresses.add(ip);
    for (const list of this.nodeAddressLists) list.push(ip);
    // A parameter changed: remembered verdicts may no longer hold.
    for (const state of this.ruleStates) state.verdicts?.clear();
  }

  private evaluate(index: number, event: AuditEvent, time: string | undefined, user: string, resource: string): void {
    const rule = this.options.rules[index];
    const state = this.ruleStates[index];
    state.candidates++;
    // The fast path: a remembered verdict for events like this one.
    const known = state.verdicts?.get(event, this.fields);
    if (known === true) return;
    const { compiled } = rule.check;
    const context: CelContext = { event, params: rule.params };
    try {
      if (known === undefined) {
        const passes = (compiled.when && compiled.when(context) !== true) || checkedVerdict(compiled.assert(context));
        state.verdicts?.set(event, this.fields, passes);
        if (passes) return;
      }
      state.matched++;
      const message = compiled.message ? String(compiled.message(context)) : renderMessage(rule.check.message, context);
      if (rule.threshold) this.windowHit(rule, event, time, user, resource, message);
      else this.record(rule.check, objectOfEvent(event), `audit:${user}`, message, evidenceOf(event, time, user, resource), false);
    } catch (error) {
      if (++state.errors <= MAX_ERRORS_PER_RULE) {
        this.errors.push({ source: `${rule.check.id} on audit event ${event.auditID ?? '(no auditID)'}`, message: `evaluation failed: ${errorMessage(error).split('\n')[0]}`, stage: 'evaluate' });
      }
    }
  }

  /** Counts a matching event in its group's sliding window; alerts once when the window fills. */
  private windowHit(rule: AuditRule, event: AuditEvent, time: string | undefined, user: string, resource: string, message: string): void {
    const threshold = rule.threshold!;
    const at = time ? Date.parse(time) : NaN;
    if (Number.isNaN(at)) return;
    const group = threshold.groupBy.map((dimension) => groupValue(event, dimension));
    let windows = this.windows.get(rule);
    if (!windows) this.windows.set(rule, (windows = new ThresholdWindows(threshold.count, threshold.windowMs, MAX_WINDOW_GROUPS)));
    const { count, fires } = windows.hit(group.join('\u0000'), at);
    if (!fires) return;
    const byUser = threshold.groupBy.includes('user');
    const object = byUser ? principalObject(user) : objectOfEvent(event);
    const label = threshold.groupBy.map((d, i) => `${d}=${group[i] || '(none)'}`).join(', ');
    const window = rule.check.threshold!.window;
    this.record(rule.check, object, `audit:${label}`, `${message} (${count} events within ${window}, ${label})`, evidenceOf(event, time, user, resource), true);
  }

  private compareWithBaseline(event: AuditEvent, time: string | undefined, user: string, verb: string, resource: string): void {
    const observation = observe(event, user, verb, resource, time);
    for (const novelty of this.options.baseline!.detector.novelties(observation)) {
      const check = NOVELTY_CHECKS[novelty.kind];
      const message =
        novelty.kind === 'principal'
          ? `${user} is not in the baseline (${verb} ${resource})`
          : `${user}: ${describeNovelty(novelty.kind)} ${novelty.value}, never seen in the baseline`;
      this.record(check, principalObject(user), `baseline:${novelty.kind}:${novelty.value}`, message, evidenceOf(event, time, user, resource), false);
    }
  }

  private record(check: FindingSource, object: K8sObject, identity: string, message: string, evidence: FindingEvidence, alwaysAlert: boolean): void {
    const finding = makeFinding(check, object, '', message);
    // The identity (principal, threshold group or novel value) is part of what makes an audit finding distinct.
    finding.fingerprint = fingerprint(check.id, finding.object, identity);
    const existing = this.folded.get(finding.fingerprint);
    if (existing) {
      const seen = existing.evidence!;
      seen.count = (seen.count ?? 1) + 1;
      if (evidence.timestamp && evidence.timestamp > (seen.lastTimestamp ?? seen.timestamp)) seen.lastTimestamp = evidence.timestamp;
      if (alwaysAlert) this.options.onAlert?.({ ...finding, evidence, message });
      return;
    }
    if (this.folded.size >= this.maxFindings) {
      this.droppedFindings++;
      return;
    }
    finding.evidence = { ...evidence, count: 1 };
    this.folded.set(finding.fingerprint, finding);
    this.options.onAlert?.({ ...finding, evidence });
  }

  findings(): Finding[] {
    return [...this.folded.values()];
  }

  report(stats: ReadStats): AuditReport {
    const summary = this.summary;
    const detector = this.options.baseline?.detector;
    const findingsByRule = new Map<string, number>();
    for (const finding of this.folded.values()) findingsByRule.set(finding.checkId, (findingsByRule.get(finding.checkId) ?? 0) + 1);
    const problems = [...stats.problems];
    if (this.droppedFindings) problems.push({ source: 'audit', message: `${this.droppedFindings} further findings beyond ${this.maxFindings} were counted but not kept`, stage: 'evaluate' });
    const report: AuditReport = {
      sources: stats.sources,
      lines: stats.lines,
      events: this.events,
      analysed: this.analysed,
      otherStages: this.otherStages,
      malformed: stats.malformed,
      unsupported: stats.unsupported,
      outOfOrder: summary.outOfOrder,
      problems,
      problemCount: stats.problemCount + (this.droppedFindings ? 1 : 0),
      timeRange: summary.from && summary.to ? { from: summary.from, to: summary.to } : null,
      principals: summary.principals.size,
      byVerb: summary.verbs.top(15),
      byResource: summary.resources.top(15),
      byUser: summary.byUser(15),
      bySourceIP: summary.sourceIPs.top(15),
      byResponseCode: summary.byResponseCode(15),
      denied: summary.denied(15),
      topPrincipals: summary.topPrincipals(10),
      firstSeen: summary.firstSeen(10, detector ? (user) => detector.knows(user) : undefined),
      rules: this.options.rules.map((rule, i) => ({
        id: rule.check.id,
        candidates: this.ruleStates[i].candidates,
        matched: this.ruleStates[i].matched,
        findings: findingsByRule.get(rule.check.id) ?? 0,
      })),
    };
    if (detector && this.options.baseline) {
      const profile = detector.profile;
      report.baseline = {
        file: this.options.baseline.file,
        learnedFrom: { from: profile.learnedFrom.from, to: profile.learnedFrom.to },
        principals: detector.size,
        newPrincipals: [...summary.principals.keys()].filter((user) => !detector.knows(user)).length,
      };
      report.comparison = compareRates(profile, summary, this.analysed);
    }
    return report;
  }
}

function checkedVerdict(verdict: unknown): boolean {
  if (typeof verdict !== 'boolean') throw new Error(`assert returned ${typeof verdict}, not a boolean`);
  return verdict;
}

function describeNovelty(kind: string): string {
  return { actions: 'new action', namespaces: 'new namespace', sourceIPs: 'new source address', userAgents: 'new client', hours: 'active at' }[kind] ?? kind;
}

function compareRates(profile: NoveltyDetector['profile'], summary: AuditSummary, analysed: number): NonNullable<AuditReport['comparison']> {
  const previousHours = hoursBetween(profile.learnedFrom.from, profile.learnedFrom.to);
  const currentHours = hoursBetween(summary.from, summary.to);
  const row = (metric: string, previous: number, current: number) => {
    const previousPerHour = round(previous / previousHours);
    const currentPerHour = round(current / currentHours);
    return { metric, previousPerHour, currentPerHour, changePercent: previousPerHour > 0 ? round(((currentPerHour - previousPerHour) / previousPerHour) * 100) : null };
  };
  const denied = summary.deniedTotal;
  const rows = [row('events', profile.totals.events, analysed), row('denied (401/403)', profile.totals.denied, denied)];
  const verbs = new Set([...Object.keys(profile.totals.byVerb), ...summary.verbs.counts.keys()]);
  for (const verb of [...verbs].sort()) rows.push(row(`verb ${verb}`, profile.totals.byVerb[verb] ?? 0, summary.verbs.counts.get(verb) ?? 0));
  return rows;
}

const round = (n: number) => Math.round(n * 100) / 100;

const COLLECTION_VERBS = new Set(['list', 'watch', 'deletecollection']);

/** The object an event touched, as a Kubernetes object reference (non-resource URLs become NonResourceURL). */
export function objectOfEvent(event: AuditEvent): K8sObject {
  const ref = event.objectRef;
  if (!ref?.resource) return { apiVersion: 'v1', kind: 'NonResourceURL', metadata: { name: event.requestURI?.split('?')[0] ?? '' } };
  const version = ref.apiVersion ?? 'v1';
  const bodyMeta = metadataOf(event.requestObject) ?? metadataOf(event.responseObject);
  // A list, watch or deletecollection touches the whole collection: "*".
  const name = ref.name ?? (typeof bodyMeta?.name === 'string' ? bodyMeta.name : typeof bodyMeta?.generateName === 'string' ? bodyMeta.generateName : COLLECTION_VERBS.has(event.verb ?? '') ? '*' : '');
  const metadata: K8sObject['metadata'] = { name };
  if (ref.namespace) metadata.namespace = ref.namespace;
  return { apiVersion: ref.apiGroup ? `${ref.apiGroup}/${version}` : version, kind: kindOfResource(ref.resource), metadata };
}

function metadataOf(body: unknown): Record<string, unknown> | undefined {
  const metadata = (body as { metadata?: unknown } | undefined)?.metadata;
  return metadata && typeof metadata === 'object' ? (metadata as Record<string, unknown>) : undefined;
}

/** A principal as an object: service accounts as ServiceAccount, everyone else as an RBAC User. */
export function principalObject(user: string): K8sObject {
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(user);
  if (sa) return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { namespace: sa[1], name: sa[2] } };
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'User', metadata: { name: user } };
}

export function evidenceOf(event: AuditEvent, time: string | undefined, user: string, resource: string): FindingEvidence {
  const ref = event.objectRef;
  const name = ref?.name ?? metadataOf(event.requestObject)?.name;
  const target = ref?.namespace ? `${ref.namespace}/${typeof name === 'string' ? name : ''}` : typeof name === 'string' ? name : '';
  const evidence: FindingEvidence = { timestamp: time ?? '', user, verb: event.verb ?? '', object: target ? `${resource} ${target}` : resource };
  if (event.auditID) evidence.auditID = event.auditID;
  if (event.sourceIPs?.[0]) evidence.sourceIP = event.sourceIPs[0];
  if (event.userAgent) evidence.userAgent = event.userAgent.slice(0, 200);
  if (typeof event.responseStatus?.code === 'number') evidence.responseCode = event.responseStatus.code;
  return evidence;
}
