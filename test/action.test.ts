// The GitHub Action run the way the runner runs it: the committed bundle (dist/action) as a node
// process, inputs as INPUT_* variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY as files; assertions
// on the outputs, the job summary, the annotations (workflow commands on stdout) and the exit code.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './support/cli.js';
import { startFixtureApiServer, type FixtureApiServer } from './support/api-server.js';

const BUNDLE = path.join(REPO_ROOT, 'dist', 'action', 'bundle', 'index.js');

interface ActionRun {
  code: number | null;
  stdout: string;
  outputs: Record<string, string>;
  summary: string;
  workdir: string;
}

/** GITHUB_OUTPUT holds `name<<DELIMITER\nvalue\nDELIMITER` blocks. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const match of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[match[1]] = match[3];
  return outputs;
}

async function runAction(inputs: Record<string, string>, workdir?: string): Promise<ActionRun> {
  const dir = workdir ?? (await mkdtemp(path.join(tmpdir(), 'kscan-action-')));
  const outputFile = path.join(dir, 'github-output');
  const summaryFile = path.join(dir, 'step-summary.md');
  await writeFile(outputFile, '');
  await writeFile(summaryFile, '');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile, GITHUB_WORKSPACE: REPO_ROOT, RUNNER_TEMP: dir };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BUNDLE], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('close', async (code) => resolve({ code, stdout, outputs: parseOutputs(await readFile(outputFile, 'utf8')), summary: await readFile(summaryFile, 'utf8'), workdir: dir }));
  });
}

describe('GitHub Action (dist/action bundle)', function () {
  this.timeout(120_000);

  it('is up to date with the sources (run npm run action)', async () => {
    const fresh = path.join(await mkdtemp(path.join(tmpdir(), 'kscan-bundle-')), 'dist', 'action', 'bundle', 'index.js');
    const { bundleAction } = (await import(pathToFileURL(path.join(REPO_ROOT, 'scripts', 'build-action.mjs')).href)) as { bundleAction: (out: string) => Promise<void> };
    await bundleAction(fresh);
    const [committed, rebuilt] = await Promise.all([readFile(BUNDLE, 'utf8'), readFile(fresh, 'utf8')]);
    expect(committed === rebuilt, 'dist/action/bundle/index.js is stale: run npm run action and commit it').to.equal(true);
  });

  it('scans manifests, sets outputs, writes the job summary and annotations, and fails the step at fail-on', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kscan-action-'));
    const run = await runAction({ paths: 'fixtures/manifests', 'fail-on': 'high', 'output-dir': path.join(dir, 'reports'), 'sarif-file': path.join(dir, 'kscan.sarif') }, dir);
    expect(run.code, run.stdout).to.equal(1);
    const counts = ['critical', 'high', 'medium', 'low', 'info'].map((s) => Number(run.outputs[s]));
    expect(counts.every((n) => Number.isInteger(n))).to.equal(true);
    expect(counts.reduce((a, b) => a + b)).to.equal(Number(run.outputs.findings));
    expect(counts[0] + counts[1]).to.be.greaterThan(0);
    expect(JSON.parse(run.outputs.scores)).to.have.property('pss-restricted');
    expect(run.outputs.sarif).to.equal(path.join(dir, 'kscan.sarif'));
    const sarif = JSON.parse(await readFile(run.outputs.sarif, 'utf8')) as { version: string; runs: { results: unknown[] }[] };
    expect(sarif.version).to.equal('2.1.0');
    expect(sarif.runs[0].results).to.have.length(Number(run.outputs.findings));
    expect((JSON.parse(run.outputs.reports) as string[]).map((f) => path.extname(f)).sort()).to.deep.equal(['.json', '.md', '.sarif']);
    // Workflow commands GitHub turns into annotations on the file and line.
    expect(run.stdout).to.match(/^::error title=KS-[A-Z]+-\d+ [^,:]+,file=fixtures\/manifests\/[^,]+\.yaml,line=\d+,col=\d+::/m);
    expect(run.stdout).to.match(/^::error::kscan: \d+ finding\(s\) at or above high$/m);
    expect(run.summary).to.match(/^## kscan: manifests/m);
    expect(run.summary).to.contain('critical');
  });

  it('passes with fail-on none, and on a baseline with nothing new', async () => {
    const clean = await runAction({ paths: 'fixtures/manifests', 'fail-on': 'none' });
    expect(clean.code, clean.stdout).to.equal(0);
    expect(clean.outputs['exit-code']).to.equal('0');
    const reports = JSON.parse(clean.outputs.reports) as string[];
    const baseline = reports.find((f) => f.endsWith('.json'))!;
    const gated = await runAction({ paths: 'fixtures/manifests', 'fail-on': 'low', baseline: path.resolve(REPO_ROOT, baseline) });
    expect(gated.code, gated.stdout).to.equal(0);
    expect(gated.outputs['new-findings']).to.equal('0');
    expect(Number(gated.outputs.findings)).to.be.greaterThan(0);
    expect(gated.summary).to.contain('**Baseline:**');
  });

  it('takes failOn, formats, frameworks and outputDir from the config file where no input is given; inputs win', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kscan-action-'));
    const config = path.join(dir, 'kscan.yaml');
    await writeFile(config, `failOn: none\nformats: [html]\nframeworks: [pss-baseline]\noutputDir: ${path.join(dir, 'from-config')}\n`);
    const fromFile = await runAction({ paths: 'fixtures/manifests', config }, dir);
    expect(fromFile.code, fromFile.stdout).to.equal(0);
    const written = JSON.parse(fromFile.outputs.reports) as string[];
    expect(written.map((f) => path.extname(f)).sort()).to.deep.equal(['.html', '.json', '.md', '.sarif']);
    expect(written.every((f) => path.resolve(REPO_ROOT, f).startsWith(path.join(dir, 'from-config')))).to.equal(true);
    expect(Object.keys(JSON.parse(fromFile.outputs.scores) as object)).to.deep.equal(['pss-baseline']);
    expect(Number(fromFile.outputs.critical) + Number(fromFile.outputs.high)).to.be.greaterThan(0);
    const overridden = await runAction({ paths: 'fixtures/manifests', config, 'fail-on': 'high', formats: 'junit', 'output-dir': path.join(dir, 'from-input') }, dir);
    expect(overridden.code, overridden.stdout).to.equal(1);
    expect((JSON.parse(overridden.outputs.reports) as string[]).map((f) => path.extname(f)).sort()).to.deep.equal(['.json', '.md', '.sarif', '.xml']);
  });

  it('fails with a clear message on a missing kubeconfig, missing paths and a bad fail-on', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ kubeconfig: '/nonexistent/kubeconfig' }, /^::error::kscan: input kubeconfig: file not found: \/nonexistent\/kubeconfig$/m],
      [{}, /^::error::kscan: input paths: give the manifests to scan/m],
      [{ paths: 'fixtures/manifests', 'fail-on': 'severe' }, /^::error::kscan: input fail-on: "severe" is not one of critical, high, medium, low, info, none$/m],
    ];
    for (const [inputs, message] of cases) {
      const run = await runAction(inputs);
      expect(run.code, JSON.stringify(inputs)).to.equal(1);
      expect(run.stdout).to.match(message);
      expect(run.outputs['exit-code']).to.equal('2');
      expect(run.stdout).not.to.match(/\n\s+at /);
    }
  });

  describe('live cluster', () => {
    let server: FixtureApiServer;
    before(async () => {
      server = await startFixtureApiServer({
        objects: [
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
          { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'debug', namespace: 'shop', uid: 'p-1' }, spec: { containers: [{ name: 'sh', image: 'busybox:1.36', securityContext: { privileged: true } }] } },
        ],
      });
    });
    after(() => server.close());

    it('scans a cluster from a kubeconfig given as content (a secret), over TLS', async () => {
      const run = await runAction({ kubeconfig: await readFile(server.kubeconfigPath, 'utf8'), 'fail-on': 'critical' });
      expect(run.code, run.stdout).to.equal(1);
      expect(Number(run.outputs.critical), run.stdout).to.be.greaterThan(0);
      expect(run.stdout).to.match(/^::error title=KS-WL-001 Privileged container::Pod\/shop\/debug: container sh runs privileged/m);
    });
  });
});
