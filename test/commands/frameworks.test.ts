import { expect } from 'chai';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runKscan, REPO_ROOT } from '../support/cli.js';
import { schemaErrors } from '../support/schema.js';
import type { ScanResult } from '../../src/scan/result.js';

const DEMO = path.join(REPO_ROOT, 'fixtures', 'demo');

describe('kscan frameworks', () => {
  it('list: every framework with its control count and how many checks decide', async () => {
    const run = await runKscan(['frameworks', 'list']);
    expect(run.code).to.equal(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.map((line) => line.split(/\s+/)[0])).to.deep.equal(['cis', 'mitre', 'nsa', 'pss-baseline', 'pss-restricted', '5']);
    expect(run.stdout).to.match(/cis\s+CIS Kubernetes Benchmark v1\.12\.0\s+131 controls/);
    expect(run.stdout).to.match(/pss-restricted\s+.*17 controls\s+17 decided by checks, 0 manual/);
    const json = JSON.parse((await runKscan(['frameworks', 'list', '--json'])).stdout) as { id: string; controls: number; mapped: number }[];
    expect(json.find((f) => f.id === 'pss-baseline')).to.deep.include({ controls: 11, mapped: 11 });
  });

  it('show: controls with titles, level, automated/manual, and the checks that decide each', async () => {
    const run = await runKscan(['frameworks', 'show', 'cis']);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.include('CIS Kubernetes Benchmark v1.12.0 (cis): 131 controls');
    expect(run.stdout).to.include('Kubernetes 1.32-1.34 → v1.12.0');
    expect(run.stdout).to.match(/ {2}5\.2\.2 {2}Minimize the admission of privileged containers \[L1, Manual, namespace\]\n {6}decided by: KS-WL-001\n/);
    expect(run.stdout).to.match(/ {2}5\.3\.2 {2}Ensure that all Namespaces have NetworkPolicies defined \[L2, Manual, namespace\]\n {6}decided by: KS-NET-004\n/);
    expect(run.stdout).to.match(/ {2}5\.1\.1 {2}Ensure that the cluster-admin role is only used where required \[L1, Manual, cluster\]\n {6}decided by: KS-RBAC-110\n/);
    expect(run.stdout).to.match(/ {2}3\.1\.1 {2}Client certificate authentication should not be used for users \[L2, Manual, control-plane\]\n {6}manual: Users authenticate through OIDC/);
    const controls = run.stdout.split('\n').filter((line) => /^ {2}\d/.test(line));
    expect(controls).to.have.length(131);
    const json = JSON.parse((await runKscan(['frameworks', 'show', 'pss-restricted', '--json'])).stdout) as { controls: { id: string; checks: string[] }[] };
    expect(json.controls).to.have.length(17);
    expect(json.controls.find((c) => c.id === 'baseline/privileged')?.checks).to.deep.equal(['KS-WL-001']);
  });

  it('show: an unknown framework is a one-line usage error', async () => {
    const run = await runKscan(['frameworks', 'show', 'iso27001']);
    expect(run.code).to.equal(2);
    expect(run.stderr.trim().split('\n')).to.have.length(1);
    expect(run.stderr).to.match(/unknown framework "iso27001"; choose from cis, mitre, nsa, pss-baseline, pss-restricted, all/);
  });

  it('checks list --framework cis shows the CIS control ids of each check', async () => {
    const run = await runKscan(['checks', 'list', '--framework', 'cis']);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/KS-WL-001 .*Privileged container\s+cis:5\.2\.2\n/);
    expect(run.stdout).to.match(/KS-NET-004 .*cis:5\.3\.2\n/);
    expect(run.stdout).to.not.match(/pss:|nsa:/);
    expect(run.stdout).to.not.include('KS-WL-013'); // read-only root fs: no CIS control
  });
});

describe('kscan cluster compliance and --profile', () => {
  let result: ScanResult;
  let stderr: string;
  before(async () => {
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'kscan-compliance-')), 'result.json');
    const run = await runKscan(['cluster', '--snapshot', DEMO, '--format', 'json', '--output', out, '--profile']);
    expect(run.code).to.equal(0);
    stderr = run.stderr;
    result = JSON.parse(await readFile(out, 'utf8')) as ScanResult;
  });

  it('scores every framework on the demo, and the result validates against the schema', () => {
    expect(schemaErrors('result.schema.json', result)).to.deep.equal([]);
    expect(result.compliance!.map((f) => [f.id, f.controls.length])).to.deep.equal([
      ['cis', 131],
      ['mitre', 36],
      ['nsa', 32],
      ['pss-baseline', 11],
      ['pss-restricted', 17],
    ]);
    const cis = result.compliance![0];
    expect(cis.controls.find((c) => c.id === '5.2.2')).to.deep.include({ status: 'fail', checks: ['KS-WL-001'] });
    expect(cis.namespaces.map((n) => n.namespace)).to.include('payments');
  });

  it('--profile prints per-check times, slowest first, on standard error and adds durationMs', () => {
    const lines = stderr.split('\n').filter((line) => /^ {2}KS-/.test(line));
    expect(lines.length).to.equal(result.checks.length);
    const times = lines.map((line) => Number(/\s([\d.]+) ms/.exec(line)![1]));
    expect([...times].sort((a, b) => b - a)).to.deep.equal(times);
    expect(result.checks.every((check) => typeof check.durationMs === 'number')).to.equal(true);
  });

  it('the terminal summary has a compliance block; --framework narrows it', async () => {
    const run = await runKscan(['cluster', '--snapshot', DEMO, '--framework', 'pss-baseline']);
    expect(run.stdout).to.match(/Compliance \(score = passed \/ \(passed \+ failed\) controls\):\n {2}pss-baseline\s+63\.6% {2}4 failed, 7 passed of 11 controls/);
    expect(run.stdout).to.not.match(/^ {2}cis /m);
  });
});
