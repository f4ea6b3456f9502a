// Rules, thresholds, stages and baselines over events built in the test, with the real built-in rules.
import { expect } from 'chai';
import { loadChecks, type Check } from '../../src/checks/loader.js';
import { AuditAnalyzer } from '../../src/audit/analyzer.js';
import { VerdictMemo, compileAuditRules, readFields, verdictFieldsOf } from '../../src/audit/rules.js';
import { BaselineLearner, NoveltyDetector, observe } from '../../src/audit/baseline.js';
import { newStats } from '../../src/audit/reader.js';
import { CappedCounter } from '../../src/audit/summary.js';
import { resourceKey, type AuditEvent } from '../../src/audit/event.js';
import { ipInCidrs } from '../../src/util/cidr.js';

const at = (second: number) => new Date(Date.UTC(2026, 10, 20, 10, 0, 0) + second * 1000).toISOString();
const denied = (second: number, user = 'mallory'): AuditEvent => ({
  kind: 'Event', apiVersion: 'audit.k8s.io/v1', stage: 'ResponseComplete', auditID: `d${second}`, verb: 'list', user: { username: user },
  objectRef: { resource: 'secrets', namespace: 'default', apiVersion: 'v1' }, responseStatus: { code: 403 }, sourceIPs: ['198.51.100.9'], requestReceivedTimestamp: at(second),
});

describe('audit analyzer', () => {
  let checks: Check[];
  before(async () => {
    checks = (await loadChecks()).checks;
  });
  const analyzer = (ids: string[], extra: Partial<ConstructorParameters<typeof AuditAnalyzer>[0]> = {}) =>
    new AuditAnalyzer({ rules: compileAuditRules(checks.filter((c) => ids.includes(c.id))), ...extra });

  it('alerts once per threshold window, and again in a later window', () => {
    const alerts: string[] = [];
    const a = analyzer(['KS-AUD-014'], { onAlert: (f) => alerts.push(f.evidence!.timestamp) });
    for (let i = 0; i < 80; i++) a.add(denied(i * 5)); // 80 denials, 5 s apart, for 6.5 min: 20 by 95 s, then again when the quiet window ends
    for (let i = 0; i < 19; i++) a.add(denied(4000 + i, 'patient')); // 19: below the threshold
    expect(alerts).to.deep.equal([at(95), at(395)]);
    const findings = a.findings();
    expect(findings).to.have.length(1);
    expect(findings[0].object).to.deep.include({ kind: 'User', name: 'mallory' });
    expect(findings[0].evidence).to.deep.include({ count: 2, lastTimestamp: at(395), responseCode: 403, sourceIP: '198.51.100.9' });
  });

  it('analyses each request once: RequestReceived and ResponseStarted stages are counted apart', () => {
    const a = analyzer(['KS-AUD-001']);
    const exec = (stage: string): AuditEvent => ({ stage, auditID: 'x', verb: 'create', user: { username: 'bob' }, objectRef: { resource: 'pods', subresource: 'exec', namespace: 'shop', name: 'web-0' }, responseStatus: { code: 101 }, requestReceivedTimestamp: at(1) });
    for (const stage of ['RequestReceived', 'ResponseStarted', 'ResponseComplete']) a.add(exec(stage));
    expect(a.analysed).to.equal(1);
    expect(a.otherStages).to.equal(2);
    const [finding] = a.findings();
    expect(finding.object).to.deep.include({ kind: 'Pod', namespace: 'shop', name: 'web-0' });
    expect(finding.message).to.equal('bob ran exec in pod shop/web-0');
  });

  it('counts out-of-order events and tolerates events without times or users', () => {
    const a = analyzer(['KS-AUD-014']);
    a.add(denied(10));
    a.add(denied(5));
    a.add({ verb: 'get' });
    const report = a.report(newStats());
    expect(report.outOfOrder).to.equal(1);
    expect(report.analysed).to.equal(3);
    expect(report.byUser.map((c) => c.key)).to.include('(unknown)');
    expect(report.timeRange).to.deep.equal({ from: at(5), to: at(10) });
  });

  it('compares times of other precisions and offsets as instants: the same instant is not out of order, an earlier one is', () => {
    const a = analyzer([]);
    const timed = (time: string): AuditEvent => ({ ...denied(0), requestReceivedTimestamp: time });
    for (const time of ['2026-11-20T10:00:10.000000Z', '2026-11-20T10:00:10Z', '2026-11-20T12:00:10+02:00', '2026-11-20T10:00:09.5Z', '2026-11-20T10:00:09.999999Z']) a.add(timed(time));
    expect(a.report(newStats()).outOfOrder).to.equal(2);
  });

  it('folds counts past a counter\'s capacity into one bucket', () => {
    const counter = new CappedCounter(2);
    for (const key of ['a', 'b', 'a', 'c', 'd', 'c']) counter.add(key);
    expect(counter.top(5)).to.deep.equal([{ key: '(other values)', count: 3 }, { key: 'a', count: 2 }, { key: 'b', count: 1 }]);
    expect(counter.counts.get('a')).to.equal(2);
  });

  it('learns a baseline and flags what a principal never did, and rates against the learning period', () => {
    const learner = new BaselineLearner();
    const routine = (second: number): AuditEvent => ({ stage: 'ResponseComplete', verb: 'get', user: { username: 'system:serviceaccount:shop:web' }, objectRef: { resource: 'configmaps', namespace: 'shop', name: 'settings' }, sourceIPs: ['10.244.1.5'], userAgent: 'app/1.0', responseStatus: { code: 200 }, requestReceivedTimestamp: at(second) });
    for (let i = 0; i < 100; i++) {
      const e = routine(i * 36);
      learner.add(observe(e, e.user!.username!, e.verb!, resourceKey(e), e.requestReceivedTimestamp), 200);
    }
    const profile = learner.profile({ from: at(0), to: at(3600), sources: ['learn.log'] });
    expect(profile.principals['system:serviceaccount:shop:web'].actions).to.deep.equal(['get configmaps']);
    const a = new AuditAnalyzer({ rules: [], baseline: { file: 'profile.json', detector: new NoveltyDetector(profile) } });
    a.add(routine(10));
    a.add({ ...routine(20), verb: 'list', objectRef: { resource: 'secrets', namespace: 'payments' }, sourceIPs: ['198.51.100.7'], userAgent: 'kubectl/v1.30.0' });
    a.add({ ...routine(30), user: { username: 'stranger' } });
    const byCheck = new Map(a.findings().map((f) => [f.checkId, f]));
    expect([...byCheck.keys()].sort()).to.deep.equal(['KS-AUD-101', 'KS-AUD-102', 'KS-AUD-103', 'KS-AUD-104', 'KS-AUD-105']);
    expect(byCheck.get('KS-AUD-102')!.message).to.contain('list secrets');
    expect(byCheck.get('KS-AUD-101')!.object).to.deep.include({ kind: 'User', name: 'stranger' });
    const report = a.report(newStats());
    expect(report.baseline).to.deep.include({ principals: 1, newPrincipals: 1 });
    expect(report.firstSeen.map((p) => p.user)).to.deep.equal(['stranger']);
    const events = report.comparison!.find((c) => c.metric === 'events')!;
    expect(events.previousPerHour).to.equal(100);
    expect(events.currentPerHour).to.equal(180); // 3 requests over the one-minute minimum span
  });

  it('matches IPv4 and IPv6 addresses against CIDRs', () => {
    expect(ipInCidrs('10.244.3.7', ['10.244.0.0/16'])).to.equal(true);
    expect(ipInCidrs('10.245.0.1', ['10.244.0.0/16'])).to.equal(false);
    expect(ipInCidrs('2001:db8::7', ['2001:db8::/32'])).to.equal(true);
    expect(ipInCidrs('::1', ['127.0.0.0/8'])).to.equal(false);
    expect(ipInCidrs('not-an-ip', ['0.0.0.0/0'])).to.equal(false);
  });

  it('remembers verdicts only for rules that read small event fields, and forgets them when a parameter grows', () => {
    expect(verdictFieldsOf(["event.?user.?username.orValue('') in params.allowed", 'event.?responseStatus.?code.orValue(200) < 400'])).to.have.length(2);
    expect(verdictFieldsOf(['event.?requestObject.?spec.?hostNetwork.orValue(false)'])).to.equal(undefined);
    expect(verdictFieldsOf(["'x' in event"])).to.equal(undefined);
    expect(verdictFieldsOf(["event.?annotations[?'a/b'].orValue('') == 'x'"])).to.have.length(1);
    expect(verdictFieldsOf(["event.annotations.size() > 0"])).to.equal(undefined);
    const memo = new VerdictMemo(verdictFieldsOf(['event.verb == "get" && event.sourceIPs[0] == "a"'])!, 3);
    const fieldsOf = (e: AuditEvent) => readFields(e, { username: undefined, verb: undefined, code: undefined });
    const get = (e: AuditEvent) => memo.get(e, fieldsOf(e));
    const put = (e: AuditEvent, verdict: boolean) => memo.set(e, fieldsOf(e), verdict);
    put({ verb: 'get', sourceIPs: ['a'] }, true);
    put({ verb: 'get', sourceIPs: ['b', 'c'] }, false);
    expect(get({ verb: 'get', sourceIPs: ['a'], user: { username: 'other' } })).to.equal(true);
    expect(get({ verb: 'get', sourceIPs: ['b', 'c'] })).to.equal(false);
    // One address that looks like the encoding of two is a different branch.
    expect(get({ verb: 'get', sourceIPs: ['1:b1:c'] })).to.equal(undefined);
    expect(get({ verb: 'list', sourceIPs: ['a'] })).to.equal(undefined);
    expect(get({ sourceIPs: ['a'] })).to.equal(undefined);
    // Malformed input is a key like any other, never an exception.
    expect(get({ verb: 'get', sourceIPs: 'a' as unknown as string[] })).to.equal(undefined);
    expect(get({ verb: 'get', sourceIPs: [1, { x: 2 }] as unknown as string[] })).to.equal(undefined);
    put({ verb: 'list' }, true);
    expect(get({ verb: 'list' })).to.equal(true);
    put({ verb: 'watch' }, true); // past capacity: starts over
    expect(get({ verb: 'get', sourceIPs: ['a'] })).to.equal(undefined);
    expect(get({ verb: 'watch' })).to.equal(true);
    // KS-AUD-013: the controller's address is outside the pod network until a kubelet is seen calling from it.
    const a = analyzer(['KS-AUD-013']);
    const controller = (second: number): AuditEvent => ({ stage: 'ResponseComplete', auditID: `c${second}`, verb: 'list', user: { username: 'system:serviceaccount:kube-system:job-controller' }, objectRef: { resource: 'jobs', apiGroup: 'batch', apiVersion: 'v1' }, sourceIPs: ['10.0.0.10'], responseStatus: { code: 200 }, requestReceivedTimestamp: at(second) });
    a.add(controller(1));
    a.add(controller(2));
    a.add({ stage: 'ResponseComplete', verb: 'get', user: { username: 'system:node:cp-1' }, objectRef: { resource: 'nodes', name: 'cp-1' }, sourceIPs: ['10.0.0.10'], responseStatus: { code: 200 }, requestReceivedTimestamp: at(3) });
    a.add(controller(4));
    const [finding] = a.findings();
    expect(finding.evidence).to.deep.include({ count: 2, auditID: 'c1', lastTimestamp: at(2) });
  });

  it('survives events with fields of the wrong type, reporting rule errors instead of stopping', () => {
    const a = new AuditAnalyzer({ rules: compileAuditRules(checks.filter((c) => c.match.auditEvents)) });
    const odd = { stage: 'ResponseComplete', verb: 'get', user: { username: 'system:serviceaccount:shop:web' }, sourceIPs: '203.0.113.9', objectRef: { resource: 'secrets', namespace: 'shop' }, responseStatus: { code: '200' }, requestReceivedTimestamp: at(1) } as unknown as AuditEvent;
    expect(() => a.add(odd)).to.not.throw();
    a.add({ ...denied(2), user: null } as unknown as AuditEvent);
    expect(a.analysed).to.equal(2);
    expect(a.errors.map((e) => e.source)).to.include('KS-AUD-013 on audit event (no auditID)');
  });
});

