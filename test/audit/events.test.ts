// Kubernetes Events: Warning events summarized by reason, namespace and owning workload, from both
// API shapes; the demo snapshot through the real CLI with --history trends; live collection from
// the fixture API server.
import { expect } from 'chai';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { K8sObject } from '../../src/model/types.js';
import type { ScanResult } from '../../src/scan/result.js';
import { Inventory } from '../../src/inventory/inventory.js';
import { summarizeEvents } from '../../src/events/summary.js';
import { warningFindings } from '../../src/events/signals.js';
import { startFixtureApiServer } from '../support/api-server.js';
import { REPO_ROOT, runKscan } from '../support/cli.js';
import { schemaErrors } from '../support/schema.js';

const owner = (kind: string, name: string, uid: string) => [{ apiVersion: 'apps/v1', kind, name, uid, controller: true }];
const WORKLOADS: K8sObject[] = [
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop', uid: 'd-web' } },
  { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-5d4f8b7c9x', namespace: 'shop', uid: 'rs-web', ownerReferences: owner('Deployment', 'web', 'd-web') } },
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-5d4f8b7c9x-abcde', namespace: 'shop', uid: 'p-web', ownerReferences: owner('ReplicaSet', 'web-5d4f8b7c9x', 'rs-web') } },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'shop', uid: 's-db' } },
];
const coreEvent = (name: string, reason: string, involved: { kind: string; name: string }, extra: Record<string, unknown> = {}): K8sObject => ({
  apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'shop', uid: `ev-${name}`, creationTimestamp: '2026-11-20T09:00:00Z' },
  involvedObject: { ...involved, namespace: 'shop' }, reason, type: 'Warning', count: 3, message: `${reason} happened`, lastTimestamp: '2026-11-20T09:10:00Z', ...extra,
});

describe('Kubernetes events', function () {
  this.timeout(60_000);

  it('summarizes Warning events of both APIs by reason, namespace and owning workload', () => {
    const events: K8sObject[] = [
      coreEvent('a', 'BackOff', { kind: 'Pod', name: 'web-5d4f8b7c9x-abcde' }),
      // The evicted pod is gone: its name leads to the ReplicaSet and on to the Deployment.
      coreEvent('b', 'Evicted', { kind: 'Pod', name: 'web-5d4f8b7c9x-zzzzz' }, { count: undefined }),
      // A pod of a ReplicaSet that is gone too: the Deployment by name.
      coreEvent('c', 'Failed', { kind: 'Pod', name: 'web-7c6d5b4f8q-qwxvz' }, { count: 4 }),
      coreEvent('d', 'FailedMount', { kind: 'Pod', name: 'db-1' }),
      coreEvent('normal', 'Pulled', { kind: 'Pod', name: 'web-5d4f8b7c9x-abcde' }, { type: 'Normal' }),
      {
        apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e', namespace: 'shop', uid: 'ev-e' }, type: 'Warning', reason: 'BackOff',
        regarding: { kind: 'Pod', namespace: 'shop', name: 'web-5d4f8b7c9x-abcde' }, note: 'Back-off  restarting\nfailed container', series: { count: 10, lastObservedTime: '2026-11-20T09:20:00.000000Z' }, eventTime: '2026-11-20T08:00:00.000000Z',
      },
      // The same stored event seen through core/v1 as well: counted once.
      { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e', namespace: 'shop', uid: 'ev-e' }, type: 'Warning', reason: 'BackOff', involvedObject: { kind: 'Pod', namespace: 'shop', name: 'web-5d4f8b7c9x-abcde' }, count: 10 },
    ];
    const report = summarizeEvents(events, new Inventory(WORKLOADS.map((object) => ({ object }))));
    expect(report).to.deep.include({ events: 6, warnings: 5, warningOccurrences: 3 + 1 + 4 + 3 + 10 });
    expect(report.byReason).to.deep.equal([
      { reason: 'BackOff', events: 2, occurrences: 13 },
      { reason: 'Failed', events: 1, occurrences: 4 },
      { reason: 'FailedMount', events: 1, occurrences: 3 },
      { reason: 'Evicted', events: 1, occurrences: 1 },
    ]);
    expect(report.byNamespace).to.deep.equal([{ namespace: 'shop', warnings: 5, occurrences: 21, topReason: 'BackOff' }]);
    const rows = report.byWorkload.map((w) => [w.kind, w.name, w.reason, w.occurrences]);
    expect(rows).to.deep.equal([
      ['Deployment', 'web', 'BackOff', 13],
      ['Deployment', 'web', 'Failed', 4],
      ['StatefulSet', 'db', 'FailedMount', 3],
      ['Deployment', 'web', 'Evicted', 1],
    ]);
    const backOff = report.byWorkload[0];
    expect(backOff).to.deep.include({ lastSeen: '2026-11-20T09:20:00.000000Z', message: 'Back-off restarting failed container' });
  });

  it('turns Warning events into one finding per signal, workload and reason, for watch mode', () => {
    const events: K8sObject[] = [
      coreEvent('a', 'BackOff', { kind: 'Pod', name: 'web-5d4f8b7c9x-abcde' }, { message: 'Back-off restarting failed container app' }),
      // Another pod of the same Deployment crash-looping: folded into the same finding.
      coreEvent('a2', 'BackOff', { kind: 'Pod', name: 'web-5d4f8b7c9x-fghjk' }, { count: 2, lastTimestamp: '2026-11-20T09:30:00Z', message: 'Back-off restarting failed container app again' }),
      // BackOff and Failed about pulling an image are an image problem, not a crash loop.
      coreEvent('b', 'BackOff', { kind: 'Pod', name: 'db-0' }, { message: 'Back-off pulling image "registry.example.com/db:1.2"' }),
      coreEvent('c', 'Failed', { kind: 'Pod', name: 'db-0' }, { message: 'Failed to pull image "registry.example.com/db:1.2": not found' }),
      coreEvent('d', 'FailedCreate', { kind: 'ReplicaSet', name: 'web-5d4f8b7c9x' }, { message: 'Error creating: pods "web-5d4f8b7c9x-q" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true)' }),
      coreEvent('e', 'FailedCreate', { kind: 'ReplicaSet', name: 'web-5d4f8b7c9x' }, { message: 'Error creating: pods "web-5d4f8b7c9x-r" is forbidden: exceeded quota: compute' }),
      coreEvent('f', 'SomethingNew', { kind: 'Node', name: 'worker-1' }),
      coreEvent('normal', 'Pulled', { kind: 'Pod', name: 'web-5d4f8b7c9x-abcde' }, { type: 'Normal' }),
    ];
    const inventory = new Inventory(WORKLOADS.map((object) => ({ object })));
    const findings = [...warningFindings(events, inventory).values()];
    const rows = findings.map((f) => [f.checkId, f.severity, `${f.object.kind}/${f.object.name}`, f.path]).sort();
    expect(rows).to.deep.equal([
      ['KS-EV-001', 'high', 'Deployment/web', 'reason=FailedCreate'],
      ['KS-EV-003', 'medium', 'StatefulSet/db', 'reason=BackOff'],
      ['KS-EV-003', 'medium', 'StatefulSet/db', 'reason=Failed'],
      ['KS-EV-004', 'medium', 'Deployment/web', 'reason=BackOff'],
      ['KS-EV-008', 'info', 'Deployment/web', 'reason=FailedCreate'],
      ['KS-EV-008', 'info', 'Node/worker-1', 'reason=SomethingNew'],
    ]);
    const crash = findings.find((f) => f.checkId === 'KS-EV-004')!;
    expect(crash.message).to.equal('BackOff (5 times, last 2026-11-20T09:30:00Z) on Pod web-5d4f8b7c9x-fghjk: Back-off restarting failed container app again');
    expect(crash.object).to.include({ apiVersion: 'apps/v1', namespace: 'shop' });
    // Filters: reasons, excluded reasons, and a minimum count per workload and reason (3 + 2 on web, 3 on db).
    const only = warningFindings(events, inventory, { reasons: ['BackOff', 'Failed'], excludeReasons: ['Failed'], minOccurrences: 4 });
    expect([...only.values()].map((f) => `${f.checkId} ${f.object.kind}/${f.object.name}`)).to.deep.equal(['KS-EV-004 Deployment/web']);
  });

  it('kscan cluster on the demo snapshot: an events section in JSON and text, and the trend against the previous scan', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kscan-events-'));
    try {
      const snapshot = path.join(dir, 'demo');
      await cp(path.join(REPO_ROOT, 'fixtures', 'demo'), snapshot, { recursive: true, filter: (source) => !source.includes(`${path.sep}audit`) });
      const history = path.join(dir, 'history.sqlite');
      const scan = async (name: string) => {
        const out = path.join(dir, name);
        const run = await runKscan(['cluster', '--snapshot', snapshot, '--format', 'json,text', '--output-dir', out, '--history', history]);
        expect([0, 1], run.stderr).to.include(run.code);
        const result = JSON.parse(await readFile(path.join(out, 'kscan-demo-prod-eu1.json'), 'utf8')) as ScanResult;
        return { result, stdout: await readFile(path.join(out, 'kscan-demo-prod-eu1.txt'), 'utf8') };
      };
      const first = await scan('first');
      expect(schemaErrors('result.schema.json', first.result)).to.deep.equal([]);
      const events = first.result.events!;
      expect(events.byReason.map((r) => r.reason)).to.include.members(['BackOff', 'Unhealthy', 'Evicted', 'FailedScheduling', 'FailedMount', 'Failed']);
      const crm = events.byWorkload.find((w) => w.name === 'crm-app' && w.reason === 'BackOff')!;
      expect(crm).to.deep.include({ namespace: 'legacy-crm', kind: 'Deployment', occurrences: 41 });
      expect(events.byWorkload.find((w) => w.reason === 'Evicted')).to.deep.include({ kind: 'Deployment', name: 'spark-worker' });
      expect(events.trend).to.equal(undefined);
      // Events are summarized, not checked: they are not among the scanned objects.
      expect(first.result.findings.some((f) => f.object.kind === 'Event')).to.equal(false);
      expect(first.result.sections!.map((s) => s.id)).to.include('events');
      expect(first.stdout).to.match(/Kubernetes events\n {2}\d+ of \d+ events are warnings/);
      expect(first.stdout).to.match(/legacy-crm +Deployment\/crm-app +BackOff +41/);

      // Next scan: the crash loop went on (41 → 60) and the FailedMount was fixed.
      const file = path.join(snapshot, 'objects', 'core_v1_Event.jsonl');
      const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const kept = lines.filter((e) => e.reason !== 'FailedMount').map((e) => (e.reason === 'BackOff' && (e.involvedObject as { name: string }).name.startsWith('crm-app') ? { ...e, count: 60 } : e));
      await writeFile(file, kept.map((e) => JSON.stringify(e)).join('\n') + '\n');
      const second = await scan('second');
      expect(schemaErrors('result.schema.json', second.result)).to.deep.equal([]);
      const trend = second.result.events!.trend!;
      expect(trend.previousScannedAt).to.equal(first.result.scan.startedAt);
      expect(trend.byReason.find((r) => r.reason === 'BackOff')).to.deep.equal({ reason: 'BackOff', previous: 59, current: 78, change: 19 });
      expect(trend.byReason.find((r) => r.reason === 'FailedMount')).to.deep.equal({ reason: 'FailedMount', previous: 3, current: 0, change: -3 });
      expect(second.stdout).to.match(/Warnings against the previous scan/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('kscan cluster (live) lists events from events.k8s.io and core/v1', async () => {
    const objects: K8sObject[] = [
      ...WORKLOADS,
      coreEvent('core1', 'BackOff', { kind: 'Pod', name: 'web-5d4f8b7c9x-abcde' }),
      { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'new1', namespace: 'shop', uid: 'ev-new1' }, type: 'Warning', reason: 'FailedScheduling', regarding: { kind: 'Pod', namespace: 'shop', name: 'db-2' }, deprecatedCount: 6 },
    ];
    const server = await startFixtureApiServer({ objects });
    const dir = await mkdtemp(path.join(tmpdir(), 'kscan-events-live-'));
    try {
      const output = path.join(dir, 'result.json');
      const run = await runKscan(['cluster', '--kubeconfig', server.kubeconfigPath, '--format', 'json', '--output', output]);
      expect([0, 1], run.stderr).to.include(run.code);
      const result = JSON.parse(await readFile(output, 'utf8')) as ScanResult;
      expect(result.events!.byWorkload.map((w) => [w.kind, w.name, w.reason, w.occurrences])).to.deep.equal([
        ['StatefulSet', 'db', 'FailedScheduling', 6],
        ['Deployment', 'web', 'BackOff', 3],
      ]);
      expect(result.summary.objects).to.equal(WORKLOADS.length);
      // kscan snapshot keeps the events, so scanning the snapshot summarizes the same warnings.
      const snapshot = path.join(dir, 'snap.tar.gz');
      expect((await runKscan(['snapshot', '--kubeconfig', server.kubeconfigPath, '--out', snapshot])).code).to.equal(0);
      const replay = await runKscan(['cluster', '--snapshot', snapshot, '--format', 'json']);
      expect((JSON.parse(replay.stdout) as ScanResult).events!.byWorkload).to.deep.equal(result.events!.byWorkload);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
