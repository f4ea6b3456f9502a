// The audit webhook backend over real HTTPS with node's https client: authentication by bearer
// token and by client certificate, body limits, methods and content types, and the real
// `kscan audit serve` command turning a posted EventList into findings on standard output.
import { expect } from 'chai';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import https from 'node:https';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { startWebhookServer, type WebhookServer } from '../../src/audit/server.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { testPki } from '../support/api-server.js';
import { REPO_ROOT } from '../support/cli.js';

interface Reply {
  status: number;
  body: string;
}

function post(url: string, body: string | Buffer, options: { token?: string; cert?: string; key?: string; method?: string; contentType?: string | null; chunked?: boolean } = {}): Promise<Reply> {
  const pki = testPki();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (options.contentType !== null) headers['content-type'] = options.contentType ?? 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const req = https.request(url, { method: options.method ?? 'POST', ca: pki.caPem, cert: options.cert, key: options.key, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    // The server may answer (413) and close before the whole body is sent.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? resolve({ status: -1, body: error.code }) : reject(error)));
    if (options.chunked) {
      // No content-length: the limit has to be enforced while the body streams in.
      const piece = Buffer.alloc(16 * 1024, 0x20);
      let sent = 0;
      const more = () => {
        while (sent < 1024 * 1024) {
          sent += piece.length;
          if (!req.write(piece)) return void req.once('drain', more);
        }
        req.end();
      };
      req.on('response', () => (sent = Infinity));
      more();
    } else req.end(body);
  });
}

const at = (second: number) => new Date(Date.UTC(2026, 10, 20, 10, 0, second)).toISOString();
const exec = (id: string, user = 'mallory@example.com'): AuditEvent => ({
  kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: id, stage: 'ResponseComplete', requestURI: '/api/v1/namespaces/shop/pods/web-0/exec?command=sh',
  verb: 'create', user: { username: user }, sourceIPs: ['203.0.113.7'], userAgent: 'kubectl/v1.30.0', objectRef: { resource: 'pods', subresource: 'exec', namespace: 'shop', name: 'web-0', apiVersion: 'v1' },
  responseStatus: { code: 101 }, requestReceivedTimestamp: at(1), stageTimestamp: at(2),
});
const eventList = (...items: AuditEvent[]) => JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items });

describe('audit webhook backend', function () {
  this.timeout(30_000);
  const received: AuditEvent[] = [];
  let tokenServer: WebhookServer;
  let certServer: WebhookServer;
  before(async () => {
    const pki = testPki();
    const common = { host: '127.0.0.1', port: 0, certPem: pki.serverCertPem, keyPem: pki.serverKeyPem, maxBodyBytes: 64 * 1024, onEvent: (e: AuditEvent) => received.push(e) };
    tokenServer = await startWebhookServer({ ...common, token: 's3cret-token' });
    certServer = await startWebhookServer({ ...common, clientCaPem: pki.caPem });
  });
  after(async () => {
    await tokenServer?.close();
    await certServer?.close();
  });
  beforeEach(() => (received.length = 0));

  it('refuses to start without a way to authenticate senders', () => {
    const pki = testPki();
    expect(() => startWebhookServer({ host: '127.0.0.1', port: 0, certPem: pki.serverCertPem, keyPem: pki.serverKeyPem, maxBodyBytes: 1024, onEvent: () => undefined })).to.throw(/--token or --client-ca/);
  });

  it('accepts an EventList with the bearer token, and answers 401 without it or with a wrong one', async () => {
    expect((await post(tokenServer.url, eventList(exec('a'), exec('b')), { token: 's3cret-token' })).status).to.equal(200);
    expect(received.map((e) => e.auditID)).to.deep.equal(['a', 'b']);
    const none = await post(tokenServer.url, eventList(exec('c')));
    expect(none.status).to.equal(401);
    expect(JSON.parse(none.body)).to.deep.include({ kind: 'Status', code: 401 });
    expect((await post(tokenServer.url, eventList(exec('d')), { token: 's3cret-tokem' })).status).to.equal(401);
    expect((await post(tokenServer.url, eventList(exec('e')), { token: 's3cret-token-longer' })).status).to.equal(401);
    expect(received.map((e) => e.auditID)).to.deep.equal(['a', 'b']);
  });

  it('accepts a client certificate signed by the client CA, and answers 401 without one or with another CA\'s', async () => {
    const pki = testPki();
    const other = testPki('another-ca');
    expect((await post(certServer.url, eventList(exec('m')), { cert: pki.clientCertPem, key: pki.clientKeyPem })).status).to.equal(200);
    expect((await post(certServer.url, eventList(exec('n')))).status).to.equal(401);
    expect((await post(certServer.url, eventList(exec('o')), { cert: other.clientCertPem, key: other.clientKeyPem })).status).to.equal(401);
    expect(received.map((e) => e.auditID)).to.deep.equal(['m']);
  });

  it('answers 413 to oversized bodies, whether declared or streamed without a length', async () => {
    const big = eventList(...Array.from({ length: 200 }, (_, i) => exec(`big${i}`)));
    expect(Buffer.byteLength(big)).to.be.greaterThan(64 * 1024);
    const declared = await post(tokenServer.url, big, { token: 's3cret-token' });
    expect(declared.status).to.equal(413);
    const streamed = await post(tokenServer.url, '', { token: 's3cret-token', chunked: true });
    expect([413, -1]).to.include(streamed.status);
    expect(received).to.have.length(0);
    // The server is still there for the next batch.
    expect((await post(tokenServer.url, eventList(exec('after')), { token: 's3cret-token' })).status).to.equal(200);
  });

  it('answers 405 to other methods, 415 to other content types and 400 to bodies that are not audit events', async () => {
    const auth = { token: 's3cret-token' };
    expect((await post(tokenServer.url, '', { ...auth, method: 'GET' })).status).to.equal(405);
    expect((await post(tokenServer.url, eventList(exec('x')), { ...auth, contentType: 'text/plain' })).status).to.equal(415);
    expect((await post(tokenServer.url, eventList(exec('x')), { ...auth, contentType: null })).status).to.equal(415);
    const notJson = await post(tokenServer.url, '{"kind": "EventList", "items": [', auth);
    expect(notJson.status).to.equal(400);
    expect(notJson.body).to.match(/not JSON/);
    const notAudit = await post(tokenServer.url, JSON.stringify({ kind: 'Pod', apiVersion: 'v1' }), auth);
    expect(notAudit.status).to.equal(400);
    expect(notAudit.body).to.match(/kind Pod is not an audit Event/);
    expect(received).to.have.length(0);
    expect(tokenServer.stats.rejected).to.be.greaterThan(4);
  });

  it('kscan audit serve: findings of posted events come out as JSON lines and go to the watch sinks; the shipped webhook config points at it', async () => {
    const pki = testPki();
    const dir = await mkdtemp(path.join(tmpdir(), 'kscan-serve-'));
    let child: ChildProcessWithoutNullStreams | undefined;
    let receiver: http.Server | undefined;
    try {
      const file = (name: string, text: string) => writeFile(path.join(dir, name), text).then(() => path.join(dir, name));
      // A watch-mode sink (a signed generic webhook) that the alerts also go to.
      const delivered: { body: string; signature: string; timestamp: string }[] = [];
      receiver = http.createServer((req, res) => {
        let body = '';
        req.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => {
          delivered.push({ body, signature: String(req.headers['x-kscan-signature']), timestamp: String(req.headers['x-kscan-timestamp']) });
          res.end('ok');
        });
      });
      await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
      const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const sinks = await file('kscan.yaml', `watch:\n  sinks:\n    - name: hook\n      type: webhook\n      url: ${hook}\n      secret: { env: KSCAN_TEST_HOOK_SECRET }\n`);
      const args = ['audit', 'serve', '--listen', '127.0.0.1:0', '--tls-cert', await file('tls.crt', pki.serverCertPem), '--tls-key', await file('tls.key', pki.serverKeyPem), '--token', await file('token', 'serve-token\n'), '--config', sinks, '--state', path.join(dir, 'serve.sqlite')];
      child = spawn(process.execPath, [fileURLToPath(new URL('../../../bin/run.js', import.meta.url)), ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, KSCAN_TEST_HOOK_SECRET: 'hook-secret' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const url = await new Promise<string>((resolve, reject) => {
        child!.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          const match = /listening on (https:\/\/\S+)/.exec(stderr);
          if (match) resolve(match[1]);
        });
        child!.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
      });
      // The kubeconfig-style file an API server's --audit-webhook-config-file points at.
      const config = yaml.load(await readFile(path.join(REPO_ROOT, 'deploy', 'audit-webhook', 'webhook-config.yaml'), 'utf8')) as { clusters: { cluster: { server: string } }[]; users: { user: { token?: string } }[] };
      expect(config.clusters[0].cluster.server).to.match(/^https:\/\//);
      expect(config.users[0].user).to.have.property('token');
      expect((await post(url, eventList(exec('s1'), exec('s2', 'eve@example.com')), { token: 'serve-token' })).status).to.equal(200);
      expect((await post(url, eventList(exec('s3')))).status).to.equal(401);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const findings = stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { checkId: string; evidence: { auditID: string; user: string; sourceIP: string } });
      expect(findings.map((f) => [f.checkId, f.evidence.auditID, f.evidence.user])).to.deep.equal([['KS-AUD-001', 's1', 'mallory@example.com'], ['KS-AUD-001', 's2', 'eve@example.com']]);
      expect(findings[0].evidence.sourceIP).to.equal('203.0.113.7');
      const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
      expect(stderr).to.match(/received 2 events in 1 batches, rejected 1 requests, 2 findings/);
      // Both alerts reached the sink, signed with the shared secret, and the secret never reached a log.
      const events = delivered.flatMap((d) => (JSON.parse(d.body) as { events: { type: string; finding: { checkId: string; evidence: { auditID: string } } }[] }).events);
      expect(events.map((e) => [e.type, e.finding.checkId, e.finding.evidence.auditID]).sort()).to.deep.equal([['opened', 'KS-AUD-001', 's1'], ['opened', 'KS-AUD-001', 's2']]);
      for (const d of delivered) expect(d.signature).to.equal(`sha256=${createHmac('sha256', 'hook-secret').update(`${d.timestamp}.${d.body}`).digest('hex')}`);
      expect(stderr + stdout).not.to.contain('hook-secret');
    } finally {
      receiver?.closeAllConnections();
      receiver?.close();
      if (child && child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
