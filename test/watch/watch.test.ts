// Watch mode end to end, in process: the fixture API server (real HTTPS, watch streams, 410 Gone)
// feeds startWatch, and real HTTP receivers on 127.0.0.1 get the events.
import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFixtureApiServer, type FixtureApiServer } from '../support/api-server.js';
import { parseWatchConfig, type WatchConfig } from '../../src/watch/config.js';
import { jsonLogger } from '../../src/watch/log.js';
import { startWatch, type WatchHandle } from '../../src/watch/run.js';
import { WATCH_MESSAGE_SCHEMA } from '../../src/watch/sinks.js';
import { WatchState, type WatchEvent } from '../../src/watch/state.js';
import Database from 'better-sqlite3';
import { InputFailure } from '../../src/util/errors.js';
import { schemaErrors } from '../support/schema.js';
import { deployment, kubeEvent, namespace, PRIVILEGED, privilegedEvents, replicaSetAndPod, sleep, startReceiver, waitFor, type Receiver } from './support.js';

const SECRET = 'test-shared-secret-0123456789';

function config(sinks: unknown[], extra: Record<string, unknown> = {}): WatchConfig {
  const doc = { debounce: '100ms', delivery: { retryBase: '100ms', retryMax: '2s', timeout: '2s' }, drainTimeout: '2s', sinks, ...extra };
  return parseWatchConfig(JSON.stringify(doc), 'watch.yaml', { HOOK_SECRET: SECRET });
}

describe('watch mode', function () {
  this.timeout(60_000);
  let dir: string;
  let server: FixtureApiServer;
  const handles: WatchHandle[] = [];
  const receivers: Receiver[] = [];
  const logs: string[] = [];
  const stdout: string[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kscan-watch-'));
    server = await startFixtureApiServer({
      objects: [namespace('team-a'), namespace('team-b'), deployment('team-a', 'web', false), deployment('team-b', 'api', true)],
    });
  });
  afterEach(async () => {
    for (const h of handles.splice(0)) await h.stop();
    for (const r of receivers.splice(0)) await r.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
    logs.length = 0;
    stdout.length = 0;
  });

  async function start(cfg: WatchConfig, state = path.join(dir, 'state.sqlite')): Promise<WatchHandle> {
    const handle = await startWatch({
      config: cfg, state, listen: '127.0.0.1:0', kubeconfig: server.kubeconfigPath,
      log: jsonLogger('debug', (line) => logs.push(line)),
      stdout: (text) => stdout.push(text),
      informer: { reconnectBaseMs: 50, reconnectMaxMs: 500 },
    });
    handles.push(handle);
    await handle.ready;
    return handle;
  }
  async function receiver(answer?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
    const r = await startReceiver(answer);
    receivers.push(r);
    return r;
  }

  it('announces existing findings once, then opened and resolved as objects are created, fixed and deleted, signed with HMAC-SHA256', async () => {
    const hook = await receiver();
    const handle = await start(config([{ name: 'hook', type: 'webhook', url: hook.url, secret: { env: 'HOOK_SECRET' }, headers: { 'X-Team': 'security' } }]));
    // The finding that existed at start is announced once.
    await waitFor('the existing finding', () => privilegedEvents(hook.accepted(), 'team-b', 'api').length === 1);

    server.upsert(deployment('team-a', 'batch', true));
    const opened = await waitFor('opened', () => privilegedEvents(hook.accepted(), 'team-a', 'batch')[0]);
    expect(opened.type).to.equal('opened');
    expect(opened.finding.severity).to.equal('critical');
    expect(opened.finding.remediation).to.be.a('string').and.not.empty;

    server.upsert(deployment('team-a', 'batch', false)); // fixed
    await waitFor('resolved after the fix', () => privilegedEvents(hook.accepted(), 'team-a', 'batch').length === 2);
    const [, resolved] = privilegedEvents(hook.accepted(), 'team-a', 'batch');
    expect(resolved.type).to.equal('resolved');
    expect(resolved.fingerprint).to.equal(opened.fingerprint);
    expect(resolved.id).to.not.equal(opened.id);

    server.remove(deployment('team-b', 'api', true)); // deleted
    await waitFor('resolved after the delete', () => privilegedEvents(hook.accepted(), 'team-b', 'api').length === 2);
    expect(privilegedEvents(hook.accepted(), 'team-b', 'api')[1].type).to.equal('resolved');

    // Every message is signed, versioned and carries the custom header; ids are unique.
    for (const message of hook.received) {
      const timestamp = String(message.headers['x-kscan-timestamp']);
      const expected = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${message.raw}`).digest('hex')}`;
      expect(message.headers['x-kscan-signature']).to.equal(expected);
      expect(message.headers['x-team']).to.equal('security');
      expect(message.body.schemaVersion).to.equal(WATCH_MESSAGE_SCHEMA);
      expect(schemaErrors('watch-event.schema.json', message.body)).to.deep.equal([]);
    }
    const ids = hook.accepted().map((e) => e.id);
    expect(new Set(ids).size).to.equal(ids.length);
    // Unchanged findings produce nothing: a no-op change to a failing object sends no event.
    const before = hook.accepted().length;
    server.upsert({ ...deployment('team-a', 'web', false), metadata: { ...deployment('team-a', 'web', false).metadata, labels: { touched: 'yes' } } });
    await sleep(600);
    expect(hook.accepted().length).to.equal(before);
    expect(handle.metrics.get('kscan_watch_events_sent_total', { sink: 'hook' })).to.equal(hook.accepted().length);
    expect(logs.join('')).to.not.include(SECRET);
  });

  it('recovers from dropped watch connections and 410 Gone without missing a change', async () => {
    const hook = await receiver();
    const handle = await start(config([{ name: 'hook', type: 'webhook', url: hook.url }]));
    await waitFor('the existing finding', () => privilegedEvents(hook.accepted(), 'team-b', 'api').length === 1);
    const watching = () => server.requests.filter((r) => r.path === '/apis/apps/v1/deployments' && r.query.watch === 'true' && r.status === 200).length;
    await waitFor('the Deployment watch', () => watching() === 1);

    // A dropped connection: the watch resumes from its resourceVersion.
    server.dropWatches();
    server.upsert(deployment('team-a', 'after-drop', true));
    await waitFor('the change made around the drop', () => privilegedEvents(hook.accepted(), 'team-a', 'after-drop').length === 1);
    expect(handle.metrics.get('kscan_watch_reconnects_total', { kind: 'Deployment' })).to.be.greaterThan(0);

    // History compacted while disconnected: the resumed watch gets 410 Gone and lists again; the
    // change made in between (a delete) is found by comparing the new list with the store.
    await waitFor('the Deployment watch again', () => watching() === 2);
    server.expireWatchHistory();
    server.dropWatches();
    server.remove(deployment('team-a', 'after-drop', true));
    server.expireWatchHistory();
    await waitFor('resolved found by the re-list', () => privilegedEvents(hook.accepted(), 'team-a', 'after-drop').length === 2, 20_000);
    expect(handle.metrics.get('kscan_watch_relists_total', { kind: 'Deployment' })).to.be.greaterThan(0);
    // The re-list reports only real changes: the untouched finding is not announced again.
    expect(privilegedEvents(hook.accepted(), 'team-b', 'api')).to.have.length(1);
  });

  it('delivers every event exactly once per id, in order, to a receiver that fails with 500s and 429 Retry-After before recovering', async () => {
    // Requests 1-4 fail (500, 500, 429 with Retry-After: 1, 503), then everything succeeds.
    const hook = await receiver((n) => (n <= 2 ? { status: 500 } : n === 3 ? { status: 429, headers: { 'Retry-After': '1' } } : n === 4 ? { status: 503 } : { status: 200 }));
    const handle = await start(config([{ name: 'hook', type: 'webhook', url: hook.url }]));
    for (let i = 0; i < 5; i++) {
      server.upsert(deployment('team-a', `job-${i}`, true));
      await sleep(150);
    }
    server.upsert(deployment('team-a', 'job-0', false));
    await waitFor('all events', () => hook.accepted().filter((e) => e.finding.checkId === PRIVILEGED).length === 7, 30_000);
    const accepted = hook.accepted();
    const ids = accepted.map((e) => e.id);
    expect(new Set(ids).size, 'no event id accepted twice').to.equal(ids.length);
    // Order: event times never go backwards, and job-0 is opened before it is resolved.
    const times = accepted.map((e) => Date.parse(e.time));
    expect(times).to.deep.equal([...times].sort((a, b) => a - b));
    expect(privilegedEvents(accepted, 'team-a', 'job-0').map((e) => e.type)).to.deep.equal(['opened', 'resolved']);
    // Failed attempts re-sent the same ids: everything received is a subset of what was accepted.
    const receivedIds = new Set(hook.received.flatMap((r) => (r.body.events ?? []).map((e) => e.id)));
    expect([...receivedIds].every((id) => ids.includes(id))).to.equal(true);
    expect(handle.metrics.get('kscan_watch_delivery_failures_total', { sink: 'hook' })).to.equal(4);
    // Failures are logged by sink name; the URL (a credential for Slack) never is.
    expect(logs.filter((l) => l.includes('delivery failed'))).to.have.length(4);
    expect(logs.join('')).to.not.include(hook.url);
    const metrics = await (await fetch(`http://127.0.0.1:${handle.port}/metrics`)).text();
    expect(metrics).to.match(/kscan_watch_queue_depth\{sink="hook"\} 0/);
    expect(metrics).to.match(/kscan_watch_delivery_failures_total\{sink="hook"\} 4/);
  });

  it('gives up on events older than delivery.maxAge: dead-lettered, logged and counted, and the outbox is empty again', async () => {
    const gone = await receiver(() => ({ status: 404 }));
    const state = path.join(dir, 'state.sqlite');
    const handle = await start(config([{ name: 'gone', type: 'webhook', url: gone.url }], { delivery: { retryBase: '100ms', retryMax: '200ms', timeout: '2s', maxAge: '1s' } }), state);
    await waitFor('the dead letters', () => logs.some((l) => l.includes('delivery abandoned')), 10_000);
    const dead = handle.metrics.get('kscan_watch_dead_letters_total', { sink: 'gone' });
    expect(dead).to.be.greaterThan(0);
    expect(gone.received.length).to.be.greaterThan(2);
    const metrics = await (await fetch(`http://127.0.0.1:${handle.port}/metrics`)).text();
    expect(metrics).to.match(/kscan_watch_queue_depth\{sink="gone"\} 0/);
    const db = new Database(state, { readonly: true });
    try {
      const rows = db.prepare('SELECT d.sink, d.attempts, d.last_error, e.body FROM dead_letters d JOIN events e ON e.seq = d.seq').all() as { sink: string; attempts: number; last_error: string; body: string }[];
      expect(rows).to.have.length(dead);
      expect(rows.map((r) => [r.sink, r.last_error, r.attempts])).to.deep.equal(rows.map(() => ['gone', 'HTTP 404', gone.received.length]));
      expect(privilegedEvents(rows.map((r) => JSON.parse(r.body) as WatchEvent), 'team-b', 'api')).to.have.length(1);
    } finally {
      db.close();
    }
  });

  it('routes by severity, namespace, check and framework, and groups a burst in one namespace into one message', async () => {
    const critical = await receiver();
    const teamB = await receiver();
    const grouped = await receiver();
    const slack = await receiver();
    await start(config([
      { name: 'critical', type: 'webhook', url: critical.url, route: { minSeverity: 'critical', events: ['opened'] } },
      { name: 'team-b', type: 'webhook', url: teamB.url, route: { namespaces: ['team-b'], checks: [PRIVILEGED], frameworks: ['pss-baseline'] } },
      { name: 'grouped', type: 'webhook', url: grouped.url, route: { checks: [PRIVILEGED] }, group: '1s' },
      { name: 'slack', type: 'slack', url: slack.url, route: { checks: [PRIVILEGED] } },
      { name: 'stdout', type: 'stdout', route: { checks: [PRIVILEGED], namespaces: ['team-a'] } },
    ]));
    await waitFor('initial delivery', () => teamB.accepted().length === 1 && grouped.accepted().length === 1);
    for (let i = 0; i < 4; i++) server.upsert(deployment('team-a', `burst-${i}`, true));
    await waitFor('the burst', () => grouped.accepted().length === 5);
    server.upsert(deployment('team-a', 'burst-0', false));
    await waitFor('the resolution', () => grouped.accepted().length === 6 && critical.accepted().length >= 5);
    await sleep(300);
    // minSeverity critical + opened only: no resolved events, nothing below critical.
    expect(critical.accepted().every((e) => e.type === 'opened' && e.finding.severity === 'critical')).to.equal(true);
    expect(privilegedEvents(critical.accepted(), 'team-a', 'burst-3')).to.have.length(1);
    // Namespace + check + framework filter: only team-b's privileged finding.
    expect(teamB.accepted().map((e) => `${e.finding.checkId} ${e.finding.object.namespace}`)).to.deep.equal([`${PRIVILEGED} team-b`]);
    // The four opened in team-a within the window came as one message.
    const burst = grouped.received.find((r) => (r.body.events ?? []).some((e) => e.finding.object.name === 'burst-0'));
    expect(burst?.body.events?.map((e) => e.finding.object.name).sort()).to.deep.equal(['burst-0', 'burst-1', 'burst-2', 'burst-3']);
    // Slack gets readable blocks: severity, object, message and remediation.
    const text = JSON.stringify(slack.received.map((r) => r.body.blocks));
    expect(text).to.include('CRITICAL').and.include('Deployment team-a/burst-0').and.include('*Remediation:*').and.include('resolved');
    // stdout: one JSON object per line and event.
    const lines = stdout.join('').trim().split('\n').map((line) => JSON.parse(line) as { schemaVersion: string; type: string; finding: { object: { name: string } } });
    expect(lines.map((l) => `${l.type} ${l.finding.object.name}`).sort()).to.deep.equal(['opened burst-0', 'opened burst-1', 'opened burst-2', 'opened burst-3', 'resolved burst-0']);
    expect(lines.every((l) => l.schemaVersion === WATCH_MESSAGE_SCHEMA)).to.equal(true);
    expect(slack.received[0].body.text).to.match(/^kscan on fixture: \d+ findings? opened/);
  });

  it('streams Warning events as findings on their workload, with the same routing: opened while it warns, resolved when the events expire', async () => {
    const [rs, pod] = replicaSetAndPod('team-a', 'web', '6d4cf56db6', 'x7k2p');
    for (const object of [rs, pod]) server.upsert(object);
    const backOff = kubeEvent('team-a', 'web-6d4cf56db6-x7k2p.1812a3f0c9d1e2b4', 'Warning', 'BackOff', { kind: 'Pod', name: pod.metadata.name! }, 'Back-off restarting failed container app in pod web-6d4cf56db6-x7k2p_team-a', 7);
    server.upsert(backOff);
    server.upsert(kubeEvent('team-a', 'web-6d4cf56db6-x7k2p.1812a3f0aa000001', 'Normal', 'Pulled', { kind: 'Pod', name: pod.metadata.name! }, 'Container image already present on machine'));
    const mounts = kubeEvent('team-a', 'web-6d4cf56db6-x7k2p.1812a3f0bb000002', 'Warning', 'FailedMount', { kind: 'Pod', name: pod.metadata.name! }, 'MountVolume.SetUp failed for volume "certs" : secret "web-tls" not found', 12);
    server.upsert(mounts);
    const high = await receiver();
    const crashes = await receiver();
    await start(config([
      { name: 'high', type: 'webhook', url: high.url, route: { minSeverity: 'high', namespaces: ['team-a'] } },
      { name: 'crashes', type: 'webhook', url: crashes.url, route: { checks: ['KS-EV-004', 'KS-EV-007'] } },
    ], { events: { warnings: true, excludeReasons: ['FailedMount'], minOccurrences: 3 } }));

    // The crash loop that was already happening at start, folded from the pod onto its Deployment.
    const opened = await waitFor('the BackOff finding', () => crashes.accepted()[0]);
    expect(opened.type).to.equal('opened');
    expect(opened.finding).to.include({ checkId: 'KS-EV-004', severity: 'medium', path: 'reason=BackOff' });
    expect(opened.finding.object).to.include({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'team-a', name: 'web' });
    expect(opened.finding.message).to.equal('BackOff (7 times, last 2026-12-02T10:15:00Z) on Pod web-6d4cf56db6-x7k2p: Back-off restarting failed container app in pod web-6d4cf56db6-x7k2p_team-a');
    expect(schemaErrors('watch-event.schema.json', crashes.received[0].body)).to.deep.equal([]);
    // Only Warnings are listed and watched.
    const eventRequests = server.requests.filter((r) => r.path === '/api/v1/events');
    expect(eventRequests.length).to.be.greaterThan(0);
    expect(eventRequests.every((r) => r.query.fieldSelector === 'type=Warning')).to.equal(true);

    // A probe failing once is below minOccurrences; a fourth failure makes it worth announcing.
    const probe = kubeEvent('team-a', 'web-6d4cf56db6-x7k2p.1812a3f0dd000003', 'Warning', 'Unhealthy', { kind: 'Pod', name: pod.metadata.name! }, 'Readiness probe failed: HTTP probe failed with statuscode: 503');
    server.upsert(probe);
    await sleep(500);
    expect(crashes.accepted().map((e) => e.finding.checkId)).to.deep.equal(['KS-EV-004']);
    server.upsert({ ...probe, count: 4 } as typeof probe);
    const unhealthy = await waitFor('the probe finding', () => crashes.accepted().find((e) => e.finding.checkId === 'KS-EV-007'));
    expect(unhealthy.finding.message).to.match(/^Unhealthy \(4 times/);

    // A Pod Security rejection of the ReplicaSet's pods is high and goes to the high sink.
    server.upsert(kubeEvent('team-a', 'web-6d4cf56db6.1812a3f0ee000004', 'Warning', 'FailedCreate', { kind: 'ReplicaSet', name: rs.metadata.name!, apiVersion: 'apps/v1' },
      'Error creating: pods "web-6d4cf56db6-q9z8w" is forbidden: violates PodSecurity "restricted:latest": privileged (container "app" must not set securityContext.privileged=true)', 3));
    const rejected = await waitFor('the admission rejection', () => high.accepted().find((e) => e.finding.checkId === 'KS-EV-001'));
    expect(rejected.finding).to.include({ severity: 'high', title: 'Pod creation rejected by Pod Security admission or a policy webhook' });
    expect(rejected.finding.object).to.include({ kind: 'Deployment', name: 'web' });

    // The API server deletes events after their TTL: the crash loop is over.
    server.remove(backOff);
    const resolved = await waitFor('resolved', () => crashes.accepted().find((e) => e.type === 'resolved'));
    expect(resolved.fingerprint).to.equal(opened.fingerprint);
    // Excluded reasons never reach a sink, whatever their count; nothing reached "high" but the rejection.
    expect([...crashes.accepted(), ...high.accepted()].some((e) => e.finding.path === 'reason=FailedMount')).to.equal(false);
    expect(high.accepted().map((e) => `${e.type} ${e.finding.checkId}`)).to.deep.equal(['opened KS-EV-001']);
  });

  it('reloads its state on restart: nothing re-announced, and what changed while stopped is announced', async () => {
    const hook = await receiver();
    const state = path.join(dir, 'state.sqlite');
    const cfg = config([{ name: 'hook', type: 'webhook', url: hook.url }]);
    let handle = await start(cfg, state);
    await waitFor('the existing finding', () => privilegedEvents(hook.accepted(), 'team-b', 'api').length === 1);
    await handle.stop();
    const before = hook.accepted().length;

    // Same cluster: a restart announces nothing.
    handle = await start(cfg, state);
    await sleep(800);
    expect(hook.accepted().length).to.equal(before);
    await handle.stop();

    // Changed while stopped: fixed, and a new problem.
    server.upsert(deployment('team-b', 'api', false));
    server.upsert(deployment('team-a', 'new', true));
    handle = await start(cfg, state);
    await waitFor('changes made while stopped', () => privilegedEvents(hook.accepted(), 'team-b', 'api').length === 2 && privilegedEvents(hook.accepted(), 'team-a', 'new').length === 1);
    expect(privilegedEvents(hook.accepted(), 'team-b', 'api')[1].type).to.equal('resolved');
    const texts = await Promise.all(['/healthz', '/readyz'].map(async (p) => (await fetch(`http://127.0.0.1:${handle.port}${p}`)).status));
    expect(texts).to.deep.equal([200, 200]);
  });

  it('re-evaluates dependents: a ClusterRoleBinding re-checks the subject it names, a NetworkPolicy the namespace-level check', async () => {
    const hook = await receiver();
    await start(config([{ name: 'hook', type: 'webhook', url: hook.url, route: { checks: ['KS-RBAC-101', 'KS-NET-004'] } }]));
    const net = (ns: string) => hook.accepted().filter((e) => e.finding.checkId === 'KS-NET-004' && e.finding.object.name === ns);
    await waitFor('namespaces without NetworkPolicy', () => net('team-a').length === 1 && net('team-b').length === 1);
    const rbac = { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole' };
    server.upsert({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace: 'team-a', uid: 'sa-reader' } });
    server.upsert({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'secret-reader', uid: 'cr-1' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }] });
    server.upsert({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'reader', uid: 'crb-1' }, roleRef: { ...rbac, name: 'secret-reader' }, subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'team-a' }] });
    const secrets = () => hook.accepted().filter((e) => e.finding.checkId === 'KS-RBAC-101');
    await waitFor('the subject re-evaluated', () => secrets().length === 1);
    expect(secrets()[0].finding.object).to.include({ kind: 'EffectivePermissions', namespace: 'team-a' });
    expect(secrets()[0].finding.message).to.include('reader');
    server.remove({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'reader' } });
    await waitFor('resolved when the binding goes', () => secrets().length === 2 && secrets()[1].type === 'resolved');

    server.upsert({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny', namespace: 'team-a', uid: 'np-1' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } });
    await waitFor('team-a resolved by its NetworkPolicy', () => net('team-a').length === 2);
    expect(net('team-a')[1].type).to.equal('resolved');
    expect(net('team-b')).to.have.length(1);
  });

  it('holds findings back until a threshold policy holds (N opened within the window), then announces the group, across a restart', async () => {
    const hook = await receiver();
    const cfg = config([{ name: 'hook', type: 'webhook', url: hook.url, route: { checks: [PRIVILEGED] } }], {
      thresholds: [{ name: 'privileged-burst', match: { checks: [PRIVILEGED], namespaces: ['team-a'] }, count: 3, window: '1m', groupBy: ['check', 'namespace'] }],
    });
    const first = await start(cfg);
    await waitFor('team-b (no policy) announced', () => hook.accepted().length === 1);
    server.upsert(deployment('team-a', 'one', true));
    server.upsert(deployment('team-a', 'two', true));
    await sleep(700);
    expect(hook.accepted().filter((e) => e.finding.object.namespace === 'team-a')).to.have.length(0);
    // The two held back still count after a restart: the third within the window tips the group.
    await first.stop();
    await start(cfg);
    await sleep(300);
    expect(hook.accepted().filter((e) => e.finding.object.namespace === 'team-a')).to.have.length(0);
    server.upsert(deployment('team-a', 'three', true));
    await waitFor('the group announced', () => hook.accepted().filter((e) => e.finding.object.namespace === 'team-a').length === 3);
    const events = hook.accepted().filter((e) => e.finding.object.namespace === 'team-a');
    expect(events.every((e) => e.threshold?.policy === 'privileged-burst' && e.threshold.count === 3)).to.equal(true);
  });

  it('rejects a bad config with one line naming the file and the field, and never prints a secret', () => {
    expect(() => parseWatchConfig('sinks: [{ name: a, type: email, url: "http://x" }]', 'w.yaml')).to.throw(InputFailure, /^w\.yaml: sinks\.0\.type: must be one of webhook, slack, stdout$/);
    expect(() => parseWatchConfig('sinks: [{ name: a, type: webhook, url: "http://x", secret: { env: NOPE } }]', 'w.yaml', {})).to.throw(InputFailure, /environment variable NOPE is not set/);
    expect(() => parseWatchConfig('debounce: soon\nsinks: [{ name: a, type: stdout }]', 'w.yaml')).to.throw(InputFailure, /^w\.yaml: debounce /);
    expect(() => parseWatchConfig('sinks: [{ name: a, type: stdout, route: { frameworks: [iso] } }]', 'w.yaml')).to.throw(InputFailure, /unknown framework "iso"/);
    const ok = parseWatchConfig('sinks: [{ name: a, type: webhook, url: { env: URL }, secret: { env: S } }]', 'w.yaml', { URL: 'https://hooks.example.com/x', S: 'k' });
    expect(ok.sinks[0]).to.include({ url: 'https://hooks.example.com/x', secret: 'k', groupMs: 0 });
    expect(ok.debounceMs).to.equal(1000);
  });
});

describe('watch: README example', () => {
  it('the watch.yaml in the README validates against the schema', async () => {
    const { readFile } = await import('node:fs/promises');
    const { REPO_ROOT } = await import('../support/cli.js');
    const readme = await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Watch mode'));
    const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block, 'a yaml block in the Watch mode section').to.be.a('string');
    const cfg = parseWatchConfig(block!, 'README.md', { KSCAN_WEBHOOK_SECRET: 's', SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x' });
    expect(cfg.sinks.map((s) => s.type)).to.deep.equal(['webhook', 'slack', 'stdout']);
    expect(cfg.thresholds[0]).to.include({ count: 3, windowMs: 600_000 });
  });
});

describe('watch: state file', () => {
  it('upgrades a version 1 file in place: open findings kept, counted as seen outside every window', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kscan-state-'));
    try {
      const file = path.join(dir, 'old.sqlite');
      const old = new Database(file);
      old.exec('CREATE TABLE findings (fingerprint TEXT PRIMARY KEY, finding TEXT NOT NULL, announced INTEGER NOT NULL)');
      old.prepare('INSERT INTO findings VALUES (?, ?, ?)').run('f'.repeat(32), JSON.stringify({ fingerprint: 'f'.repeat(32), checkId: PRIVILEGED }), 0);
      old.pragma('user_version = 1');
      old.close();
      const state = new WatchState(file);
      expect([...state.loadOpen().values()].map((s) => [s.finding.checkId, s.announced, s.seenAt])).to.deep.equal([[PRIVILEGED, false, 0]]);
      state.commit({ upserts: [['e'.repeat(32), { finding: { fingerprint: 'e'.repeat(32) } as never, announced: true, seenAt: 1234 }]], deletes: [], events: [] });
      expect(state.loadOpen().get('e'.repeat(32))?.seenAt).to.equal(1234);
      state.close();
      const reopened = new Database(file, { readonly: true });
      expect(reopened.pragma('user_version', { simple: true })).to.equal(2);
      reopened.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
