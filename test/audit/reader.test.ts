// The streaming reader: formats, compression, rotation order and bad input, on real files.
import { expect } from 'chai';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { readAuditLogs, compareRotation, logFilesIn, dropMistypedFields } from '../../src/audit/reader.js';
import type { AuditEvent } from '../../src/audit/event.js';

const event = (id: string, extra: Record<string, unknown> = {}) => ({
  kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: id, stage: 'ResponseComplete', verb: 'get',
  user: { username: 'alice' }, sourceIPs: ['10.0.0.1'], objectRef: { resource: 'pods', namespace: 'default', name: 'web', apiVersion: 'v1' },
  responseStatus: { code: 200 }, requestReceivedTimestamp: '2026-11-20T10:00:00.000000Z', stageTimestamp: '2026-11-20T10:00:00.001000Z', ...extra,
});
const line = (id: string, extra?: Record<string, unknown>) => JSON.stringify(event(id, extra));

describe('audit log reader', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(path.join(tmpdir(), 'kscan-audit-test-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function read(inputs: string[], stdin?: Readable) {
    const events: AuditEvent[] = [];
    const stats = await readAuditLogs(inputs, (e) => events.push(e), { stdin });
    return { events, stats, ids: events.map((e) => e.auditID) };
  }

  it('reads JSON lines, counting malformed lines with their line numbers and keeping the rest', async () => {
    const file = path.join(dir, 'audit.log');
    await writeFile(file, [line('a'), 'not json at all', '', line('b'), '{"truncated": ', line('c')].join('\n'));
    const { ids, stats } = await read([file]);
    expect(ids).to.deep.equal(['a', 'b', 'c']);
    expect(stats.malformed).to.equal(2);
    expect(stats.problems.map((p) => p.line)).to.deep.equal([2, 5]);
    expect(stats.problems[0].source).to.equal(file);
  });

  it('keeps only the first problems but counts them all', async () => {
    const file = path.join(dir, 'bad.log');
    await writeFile(file, Array.from({ length: 50 }, (_, i) => (i % 2 ? line(`e${i}`) : `garbage ${i}`)).join('\n'));
    const { stats, events } = await read([file]);
    expect(events).to.have.length(25);
    expect(stats.problemCount).to.equal(25);
    expect(stats.problems).to.have.length(10);
  });

  it('decompresses gzip by its magic bytes and reports a truncated gzip without losing what came before', async () => {
    const whole = gzipSync(Array.from({ length: 2000 }, (_, i) => line(`g${i}`)).join('\n') + '\n');
    await writeFile(path.join(dir, 'rotated'), whole);
    await writeFile(path.join(dir, 'cut.gz'), whole.subarray(0, Math.floor(whole.length / 2)));
    const ok = await read([path.join(dir, 'rotated')]);
    expect(ok.events).to.have.length(2000);
    expect(ok.stats.problems).to.deep.equal([]);
    const cut = await read([path.join(dir, 'cut.gz')]);
    expect(cut.events.length).to.be.greaterThan(0).and.lessThan(2000);
    expect(cut.stats.problems.map((p) => p.message).join()).to.match(/truncated gzip/);
  });

  it('reads a directory of rotated logs oldest first', async () => {
    const logs = path.join(dir, 'logs');
    await mkdir(logs);
    await writeFile(path.join(logs, 'audit.log'), line('live') + '\n');
    await writeFile(path.join(logs, 'audit-2026-11-20T08-00-00.000.log.gz'), gzipSync(line('second') + '\n'));
    await writeFile(path.join(logs, 'audit-2026-11-19T08-00-00.000.log'), line('first') + '\n');
    await writeFile(path.join(logs, '.hidden'), 'ignored');
    expect((await read([logs])).ids).to.deep.equal(['first', 'second', 'live']);
    expect(['audit.log', 'audit.log.1', 'audit.log.3.gz', 'audit.log.2'].sort(compareRotation)).to.deep.equal(['audit.log.3.gz', 'audit.log.2', 'audit.log.1', 'audit.log']);
    expect((await logFilesIn(logs)).map((f) => path.basename(f))).to.not.include('.hidden');
  });

  it('reads standard input, split across chunks at any byte', async () => {
    const text = `${line('s1')}\n${line('s2', { user: { username: 'zoë ☃' } })}\n`;
    const bytes = Buffer.from(text);
    const chunks = [bytes.subarray(0, 7), bytes.subarray(7, bytes.indexOf(0xe2) + 1), bytes.subarray(bytes.indexOf(0xe2) + 1)];
    const { events } = await read(['-'], Readable.from(chunks));
    expect(events.map((e) => e.user?.username)).to.deep.equal(['alice', 'zoë ☃']);
  });

  it('reads EventList bodies on one line and pretty-printed, and reports a missing file without stopping', async () => {
    await writeFile(path.join(dir, 'list.json'), JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [event('l1'), event('l2')] }) + '\n');
    await writeFile(path.join(dir, 'pretty.json'), JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [event('p1')] }, null, 2));
    const { ids, stats } = await read([path.join(dir, 'missing.log'), path.join(dir, 'list.json'), path.join(dir, 'pretty.json')]);
    expect(ids).to.deep.equal(['l1', 'l2', 'p1']);
    expect(stats.problems[0].message).to.match(/cannot read/);
  });

  it('reads a JSON array written on one line without a final newline', async () => {
    await writeFile(path.join(dir, 'array.json'), JSON.stringify([event('a1'), event('a2')]));
    expect((await read([path.join(dir, 'array.json')])).ids).to.deep.equal(['a1', 'a2']);
  });

  it('drops each field of the wrong type, whichever it is, and leaves well-typed events alone', () => {
    const full = () => ({
      ...event('t1'), requestURI: '/api/v1/pods', userAgent: 'kubectl', timestamp: '2026-11-20T10:00:00Z',
      user: { username: 'alice', uid: 'u1', groups: ['dev'], extra: { scopes: ['a'] } }, impersonatedUser: { username: 'bob', uid: 'u2', groups: ['ops'], extra: {} },
      objectRef: { resource: 'pods', namespace: 'default', name: 'web', apiGroup: '', apiVersion: 'v1', subresource: 'exec', uid: 'o1' },
      responseStatus: { code: 200, status: 'Success', reason: '', message: '' }, annotations: { a: 'b' },
    }) as Record<string, any>;
    expect(dropMistypedFields(full() as AuditEvent)).to.deep.equal([]);
    const paths = [
      'level', 'auditID', 'stage', 'requestURI', 'verb', 'userAgent', 'requestReceivedTimestamp', 'stageTimestamp', 'timestamp', 'user', 'impersonatedUser', 'sourceIPs', 'objectRef', 'responseStatus', 'annotations',
      ...['user', 'impersonatedUser'].flatMap((u) => ['username', 'uid', 'groups', 'extra'].map((k) => `${u}.${k}`)),
      ...['resource', 'namespace', 'name', 'apiGroup', 'apiVersion', 'subresource', 'uid'].map((k) => `objectRef.${k}`),
      ...['code', 'status', 'reason', 'message'].map((k) => `responseStatus.${k}`),
    ];
    for (const field of paths) {
      const e = full();
      const [outer, inner] = field.split('.');
      const target = inner ? e[outer] : e;
      target[inner ?? outer] = field === 'responseStatus.code' ? '200' : field === 'user.extra' ? 'x' : 42;
      expect(dropMistypedFields(e as AuditEvent), field).to.deep.equal([field]);
      expect(target, field).to.not.have.property(inner ?? outer);
    }
    const e = full();
    e.sourceIPs = ['10.0.0.1', 7];
    e.annotations = { a: 'b', c: 1 };
    expect(dropMistypedFields(e as AuditEvent)).to.deep.equal(['sourceIPs', 'annotations']);
  });

  it('unwraps GKE, AKS and EKS exports and v1beta1 events; other API versions are counted as unsupported', async () => {
    const gke = { insertId: 'gke1', timestamp: '2026-11-20T10:00:00Z', resource: { type: 'k8s_cluster' }, protoPayload: { '@type': 'type.googleapis.com/google.cloud.audit.AuditLog', authenticationInfo: { principalEmail: 'dev@example.com' }, methodName: 'io.k8s.core.v1.pods.exec.create', resourceName: 'core/v1/namespaces/shop/pods/web-0/exec', requestMetadata: { callerIp: '198.51.100.1', callerSuppliedUserAgent: 'kubectl/v1.30' }, status: { code: 7 } } };
    const aksObject = { category: 'kube-audit', properties: { log: event('aks1'), pod: 'kube-apiserver-1' } };
    const aksString = { category: 'kube-audit', properties: { log: line('aks2') } };
    const eksLine = `2026-11-20T10:00:00.000Z ${line('eks1')}`;
    const eksExport = { messageType: 'DATA_MESSAGE', logEvents: [{ id: '1', timestamp: 1, message: line('eks2') }] };
    const beta = event('beta1', { apiVersion: 'audit.k8s.io/v1beta1', timestamp: '2026-11-20T10:00:00Z' });
    const other = event('v2', { apiVersion: 'audit.k8s.io/v2' });
    await writeFile(path.join(dir, 'mixed.log'), [gke, aksObject, aksString].map((o) => JSON.stringify(o)).concat(eksLine, JSON.stringify(eksExport), JSON.stringify(beta), JSON.stringify(other)).join('\n'));
    const { events, stats } = await read([path.join(dir, 'mixed.log')]);
    expect(events.map((e) => e.auditID)).to.deep.equal(['gke1', 'aks1', 'aks2', 'eks1', 'eks2', 'beta1']);
    const fromGke = events[0];
    expect(fromGke.user?.username).to.equal('dev@example.com');
    expect(fromGke.verb).to.equal('create');
    expect(fromGke.objectRef).to.deep.include({ resource: 'pods', namespace: 'shop', name: 'web-0', subresource: 'exec' });
    expect(fromGke.responseStatus?.code).to.equal(403);
    expect(fromGke.sourceIPs).to.deep.equal(['198.51.100.1']);
    expect(stats.unsupported).to.equal(1);
    expect(stats.problems[0]).to.deep.include({ line: 7 });
    expect(stats.problems[0].message).to.match(/audit\.k8s\.io\/v2/);
  });

  it('stops a gzip bomb with a clear error, keeping the events before it', async () => {
    // 80 MiB of blank lines compress about 1000 to 1: far past any real audit log's ratio.
    await writeFile(path.join(dir, 'bomb.gz'), gzipSync(Buffer.concat([Buffer.from(line('before') + '\n'), Buffer.alloc(80 * 1024 * 1024, 0x0a)])));
    await writeFile(path.join(dir, 'after.log'), line('after') + '\n');
    const { ids, stats } = await read([path.join(dir, 'bomb.gz'), path.join(dir, 'after.log')]);
    expect(ids).to.deep.equal(['before', 'after']);
    expect(stats.problems).to.have.length(1);
    expect(stats.problems[0].source).to.equal(path.join(dir, 'bomb.gz'));
    expect(stats.problems[0].message).to.match(/^gzip data expands more than 200 times \(a gzip bomb\?\); the rest of the file was skipped \(stopped after line \d+\)$/);
  });

  it('reads events with missing fields and out-of-order timestamps without losing any', async () => {
    const file = path.join(dir, 'odd.log');
    const sparse = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: 'sparse' };
    await writeFile(file, [line('late', { requestReceivedTimestamp: '2026-11-20T11:00:00Z' }), JSON.stringify(sparse), line('early', { requestReceivedTimestamp: '2026-11-20T09:00:00Z' })].join('\n'));
    const { ids, stats } = await read([file]);
    expect(ids).to.deep.equal(['late', 'sparse', 'early']);
    expect(stats.problems).to.deep.equal([]);
  });
});

