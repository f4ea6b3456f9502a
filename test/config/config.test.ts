// The config file, exceptions (config, default packs, annotations) and --baseline, through the
// real CLI on manifests written by the test.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runKscan } from '../support/cli.js';
import { schemaErrors } from '../support/schema.js';
import type { ScanResult } from '../../src/scan/result.js';
import { parseIgnoreAnnotation } from '../../src/exceptions/exceptions.js';
import { isCalendarDate } from '../../src/util/calendar-date.js';
import { parseWatchConfig } from '../../src/watch/config.js';

const deployment = (namespace: string, name: string, options: { privileged?: boolean; hostNetwork?: boolean; labels?: Record<string, string>; annotations?: Record<string, string> } = {}) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${namespace}
${options.labels ? `  labels:\n${Object.entries(options.labels).map(([k, v]) => `    ${k}: "${v}"`).join('\n')}\n` : ''}${options.annotations ? `  annotations:\n${Object.entries(options.annotations).map(([k, v]) => `    ${k}: "${v}"`).join('\n')}\n` : ''}spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      hostNetwork: ${options.hostNetwork ?? false}
      containers:
        - name: app
          image: registry.example.com/${name}:1.4.2
          securityContext:
            privileged: ${options.privileged ?? false}
`;

async function workspace(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kscan-config-'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

async function scan(dir: string, args: string[] = []) {
  const run = await runKscan(['manifests', 'app.yaml', '--format', 'json', ...args], { cwd: dir });
  return { run, result: run.stdout.trim().startsWith('{') ? (JSON.parse(run.stdout) as ScanResult) : undefined };
}

const checkIds = (result: ScanResult, objectName: string) => result.findings.filter((f) => f.object.name === objectName).map((f) => f.checkId).sort();

describe('config file and exceptions', function () {
  this.timeout(60_000);

  it('suppresses by namespace, kind, name pattern and labels, lists what each exception suppressed, and scores without them', async () => {
    const dir = await workspace({
      'app.yaml': [deployment('payments', 'api-gateway', { privileged: true, labels: { tier: 'edge' } }), deployment('payments', 'api-worker', { privileged: true }), deployment('shop', 'api-gateway', { privileged: true, labels: { tier: 'edge' } })].join('---\n'),
      '.kscan.yaml': `exceptions:
  - name: edge gateways
    checks: [KS-WL-001]
    namespaces: [pay*]
    kinds: [Deployment]
    names: ["api-*"]
    labels: { tier: edge }
    reason: The gateway needs raw sockets until the v2 rollout.
    owner: payments-team
    expires: "2099-01-31"
`,
    });
    const { result } = await scan(dir);
    expect(schemaErrors('result.schema.json', result)).to.deep.equal([]);
    const privileged = result!.findings.filter((f) => f.checkId === 'KS-WL-001').map((f) => `${f.object.namespace}/${f.object.name}`).sort();
    expect(privileged).to.deep.equal(['payments/api-worker', 'shop/api-gateway']);
    const [exception] = result!.exceptions!.exceptions;
    expect(exception).to.deep.include({ name: 'edge gateways', status: 'active', suppressed: 1, owner: 'payments-team', expires: '2099-01-31', source: '.kscan.yaml:2' });
    expect(exception.findings.map((f) => f.object)).to.deep.equal(['Deployment/payments/api-gateway']);
    expect(result!.sections!.find((s) => s.id === 'exceptions')!.tables![0].rows[0]).to.include('edge gateways');
  });

  it('stops applying an expired exception and names it and an unused one; warns on missing owner and expiry', async () => {
    const dir = await workspace({
      'app.yaml': deployment('shop', 'cart', { privileged: true }),
      '.kscan.yaml': `exceptions:
  - name: old waiver
    checks: [KS-WL-001]
    namespaces: [shop]
    reason: Accepted for the 2025 audit.
    owner: shop-team
    expires: "2025-06-30"
  - name: nothing matches
    checks: [KS-WL-004]
    namespaces: [shop]
    reason: hostPID for the profiler.
`,
    });
    const { run, result } = await scan(dir);
    expect(run.code).to.equal(0);
    expect(checkIds(result!, 'cart')).to.include('KS-WL-001');
    expect(result!.exceptions!.exceptions.map((e) => [e.name, e.status])).to.deep.equal([['old waiver', 'expired'], ['nothing matches', 'unused']]);
    const messages = result!.errors.map((e) => `${e.source}: ${e.message}`);
    expect(messages).to.include('.kscan.yaml:2: exception old waiver expired on 2025-06-30 and no longer applies');
    expect(messages).to.include('.kscan.yaml:8: exception nothing matches matches no finding: remove it or fix its selector');
    expect(messages).to.include('.kscan.yaml:8: exception nothing matches has no owner: say who accepted the risk');
    expect(messages).to.include('.kscan.yaml:8: exception nothing matches has no expiry date: it will apply for ever');
  });

  it('rejects a malformed date, an unknown field and bad YAML with file, line and field, exit 2', async () => {
    const cases: [string, RegExp][] = [
      ['exceptions:\n  - checks: [KS-WL-001]\n    reason: because we must\n    expires: "2027-02-30"\n', /^kscan: \.kscan\.yaml:4: exceptions\.0\.expires: "2027-02-30" is not a date \(YYYY-MM-DD\)$/],
      ['failOn: high\nexcepions: []\n', /^kscan: \.kscan\.yaml:1: config: unknown field "excepions"/],
      ['severity:\n  KS-WL-001: urgent\n', /^kscan: \.kscan\.yaml:2: severity\.KS-WL-001: must be one of critical, high, medium, low, info$/],
      ['formats: [json\n', /^kscan: \.kscan\.yaml:\d+: invalid YAML/],
    ];
    for (const [config, pattern] of cases) {
      const dir = await workspace({ 'app.yaml': deployment('shop', 'cart'), '.kscan.yaml': config });
      const { run } = await scan(dir);
      expect(run.code, config).to.equal(2);
      expect(run.stderr.trim(), config).to.match(pattern);
      expect(run.stderr, config).not.to.match(/\n\s+at /);
    }
    const missing = await runKscan(['manifests', 'app.yaml', '--config', 'nope.yaml'], { cwd: await workspace({ 'app.yaml': deployment('shop', 'cart') }) });
    expect(missing.code).to.equal(2);
    expect(missing.stderr.trim()).to.equal('kscan: config file not found: nope.yaml');
  });

  it('honours the kscan.io/ignore annotation for that object only, and reports a malformed one', async () => {
    const dir = await workspace({
      'app.yaml': [
        deployment('shop', 'profiler', { privileged: true, hostNetwork: true, annotations: { 'kscan.io/ignore': 'KS-WL-001: eBPF profiler needs it; KS-WL-003: scrapes node ports' } }),
        deployment('shop', 'cart', { privileged: true, annotations: { 'kscan.io/ignore': 'KS-WL-001' } }),
        deployment('shop', 'checkout', { privileged: true }),
      ].join('---\n'),
    });
    const { result } = await scan(dir);
    expect(checkIds(result!, 'profiler')).not.to.include.members(['KS-WL-001', 'KS-WL-003']);
    expect(checkIds(result!, 'cart')).to.include('KS-WL-001');
    expect(checkIds(result!, 'checkout')).to.include('KS-WL-001');
    expect(result!.exceptions!.annotations.map((a) => [a.object, a.reason, a.suppressed])).to.deep.equal([
      ['Deployment/shop/profiler', 'eBPF profiler needs it', 1],
      ['Deployment/shop/profiler', 'scrapes node ports', 1],
    ]);
    expect(result!.errors.map((e) => `${e.source}: ${e.message}`)).to.include('Deployment/shop/cart: annotation kscan.io/ignore: "KS-WL-001" is not "<check-id>: reason"');
  });

  it('applies the default packs to system components, and turns them off by flag or config', async () => {
    const proxy = deployment('kube-system', 'kube-proxy', { privileged: true }).replace('kind: Deployment', 'kind: DaemonSet');
    const dir = await workspace({ 'app.yaml': [proxy, deployment('kube-system', 'my-addon', { privileged: true })].join('---\n') });
    const packed = (await scan(dir)).result!;
    expect(checkIds(packed, 'kube-proxy')).not.to.include('KS-WL-001');
    expect(checkIds(packed, 'my-addon')).to.include('KS-WL-001');
    expect(packed.exceptions!.exceptions[0]).to.deep.include({ pack: 'kubernetes-system', name: 'kube-proxy' });
    expect(packed.exceptions!.exceptions[0].findings.map((f) => f.checkId)).to.include('KS-WL-001');
    expect(checkIds((await scan(dir, ['--no-default-exceptions'])).result!, 'kube-proxy')).to.include('KS-WL-001');
    await writeFile(path.join(dir, '.kscan.yaml'), 'defaultExceptions: false\n');
    expect(checkIds((await scan(dir)).result!, 'kube-proxy')).to.include('KS-WL-001');
  });

  it('takes formats, fail-on and severity overrides from the file; flags win', async () => {
    const dir = await workspace({ 'app.yaml': deployment('shop', 'cart', { privileged: true }), '.kscan.yaml': 'failOn: high\nformats: [json]\nseverity:\n  KS-WL-001: medium\n' });
    const fromFile = await runKscan(['manifests', 'app.yaml'], { cwd: dir });
    const result = JSON.parse(fromFile.stdout) as ScanResult;
    expect(result.findings.find((f) => f.checkId === 'KS-WL-001')!.severity).to.equal('medium');
    // KS-WL-001 is medium now, so failOn: high still fails only because of other high findings (if any).
    const highs = result.findings.filter((f) => ['critical', 'high'].includes(f.severity)).length;
    expect(fromFile.code).to.equal(highs ? 1 : 0);
    const flagWins = await runKscan(['manifests', 'app.yaml', '--fail-on', 'medium', '--format', 'text'], { cwd: dir });
    expect(flagWins.code).to.equal(1);
    expect(flagWins.stdout).to.match(/^kscan \d/);
  });

  it('one .kscan.yaml serves the scans and kscan watch (its watch: section)', async () => {
    const config = 'failOn: high\nframeworks: [pss-restricted]\nwatch:\n  debounce: 2s\n  sinks:\n    - { name: log, type: stdout }\n';
    const dir = await workspace({ 'app.yaml': deployment('shop', 'cart', { privileged: true }), '.kscan.yaml': config });
    const { run, result } = await scan(dir);
    expect(run.code).to.equal(1);
    expect(result!.scan.frameworks).to.deep.equal(['pss-restricted']);
    const watch = parseWatchConfig(config, '.kscan.yaml');
    expect(watch).to.deep.include({ debounceMs: 2000, frameworks: ['pss-restricted'] });
    expect(watch.sinks.map((sink) => sink.name)).to.deep.equal(['log']);
  });

  it('parses annotation values and calendar dates strictly', () => {
    expect(parseIgnoreAnnotation('KS-WL-001: a; KS-NET-*: b\nbad').entries).to.deep.equal([{ check: 'KS-WL-001', reason: 'a' }, { check: 'KS-NET-*', reason: 'b' }]);
    expect(isCalendarDate('2028-02-29')).to.equal(true);
    expect(isCalendarDate('2027-02-29')).to.equal(false);
    expect(isCalendarDate('2027-1-5')).to.equal(false);
  });
});

describe('--baseline (gate on new findings only)', function () {
  this.timeout(60_000);

  it('reports new, unchanged and resolved findings and fails only on new ones', async () => {
    const dir = await workspace({ 'app.yaml': [deployment('shop', 'cart', { privileged: true }), deployment('shop', 'legacy', { hostNetwork: true })].join('---\n') });
    const before = await runKscan(['manifests', 'app.yaml', '--format', 'json', '--output', 'before.json'], { cwd: dir });
    expect(before.code).to.equal(0);
    // Same findings: the old critical no longer fails the gate.
    const same = await scan(dir, ['--baseline', 'before.json', '--fail-on', 'high']);
    expect(same.run.code).to.equal(0);
    expect(same.result!.baseline).to.deep.include({ file: 'before.json', newFingerprints: [], resolved: [] });
    expect(same.result!.baseline!.stillOpen).to.equal(same.result!.findings.length);
    // Fix one, break another: exit 1 for the new one; the fixed one is listed as resolved.
    await writeFile(path.join(dir, 'app.yaml'), [deployment('shop', 'cart', { privileged: true }), deployment('shop', 'legacy'), deployment('shop', 'search', { privileged: true })].join('---\n'));
    const changed = await scan(dir, ['--baseline', 'before.json', '--fail-on', 'high']);
    expect(changed.run.code).to.equal(1);
    const fresh = new Set(changed.result!.baseline!.newFingerprints);
    expect([...new Set(changed.result!.findings.filter((f) => fresh.has(f.fingerprint)).map((f) => f.object.name))]).to.deep.equal(['search']);
    expect(changed.result!.baseline!.resolved.map((r) => `${r.checkId} ${r.object}`)).to.include('KS-WL-003 Deployment/shop/legacy');
    expect(schemaErrors('result.schema.json', changed.result)).to.deep.equal([]);
    const text = await runKscan(['manifests', 'app.yaml', '--baseline', 'before.json'], { cwd: dir });
    expect(text.stdout).to.match(/Against the baseline before\.json \(.*\): \d+ new, \d+ resolved, \d+ unchanged/);
  });

  it('rejects a missing or foreign baseline with one line and exit 2', async () => {
    const dir = await workspace({ 'app.yaml': deployment('shop', 'cart'), 'other.json': '{"results": []}' });
    for (const [file, message] of [['gone.json', 'kscan: baseline not found: gone.json'], ['other.json', 'kscan: other.json: not a kscan result (no schemaVersion/kscanVersion; write one with --format json)']]) {
      const run = await runKscan(['manifests', 'app.yaml', '--baseline', file], { cwd: dir });
      expect(run.code).to.equal(2);
      expect(run.stderr.trim()).to.equal(message);
    }
    // Checked before anything is collected: no cluster is contacted, no report written.
    const cluster = await runKscan(['cluster', '--kubeconfig', path.join(dir, 'no-such-kubeconfig'), '--baseline', 'gone.json', '--output-dir', 'out'], { cwd: dir });
    expect(cluster.code).to.equal(2);
    expect(cluster.stderr.trim()).to.equal('kscan: baseline not found: gone.json');
    expect(existsSync(path.join(dir, 'out'))).to.equal(false);
  });
});
