// deploy/ is what users apply to run kscan in their cluster: it must render with kubectl's
// kustomize, pass kscan's own checks, and keep its ClusterRole read-only and away from Secrets.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadAll } from 'js-yaml';
import { REPO_ROOT, runKscan } from './support/cli.js';

const exec = promisify(execFile);

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  nonResourceURLs?: string[];
}

async function render(dir: string): Promise<string | undefined> {
  try {
    return (await exec('kubectl', ['kustomize', dir], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

describe('deploy/ (in-cluster kustomize base)', function () {
  this.timeout(60_000);
  let base: string;
  before(async function () {
    const rendered = await render('deploy/base');
    if (rendered === undefined) {
      // CI installs kubectl (scripts/install-system-deps.sh); a developer without it is told why.
      if (process.env.CI) throw new Error('kubectl not found: run scripts/install-system-deps.sh');
      this.skip();
    }
    base = rendered!;
  });

  it('renders the base and the example overlay', async () => {
    const kinds = loadAll(base).map((doc) => (doc as { kind: string }).kind).sort();
    expect(kinds).to.deep.equal(['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'CronJob', 'Deployment', 'Namespace', 'NetworkPolicy', 'PersistentVolumeClaim', 'PersistentVolumeClaim', 'ServiceAccount']);
    const overlay = (await render('deploy/overlays/example'))!;
    expect(overlay).to.contain('image: registry.example.com/security/kscan:0.1.0');
    expect(overlay).to.contain('schedule: 17 2 * * 1');
  });

  it('passes kscan\'s own checks: no finding above low', async () => {
    const run = await runKscan(['manifests', '-', '--format', 'json', '--fail-on', 'medium'], { stdin: base });
    const result = JSON.parse(run.stdout) as { summary: { objects: number }; findings: { checkId: string; severity: string }[] };
    expect(result.summary.objects).to.be.at.least(7); // plus the RBAC objects kscan derives
    expect(result.findings.filter((f) => !['low', 'info'].includes(f.severity))).to.deep.equal([]);
    expect(run.code).to.equal(0);
  });

  it('grants only get, list and watch, names every resource, and never Secrets or nodes/proxy', () => {
    const role = loadAll(base).find((doc) => (doc as { kind: string }).kind === 'ClusterRole') as { rules: Rule[] };
    const resources = role.rules.flatMap((rule) => rule.resources ?? []);
    expect(role.rules.flatMap((rule) => rule.verbs ?? []).every((verb) => ['get', 'list', 'watch'].includes(verb))).to.equal(true);
    expect(resources).to.include.members(['pods', 'deployments', 'clusterrolebindings', 'networkpolicies']);
    expect(resources.filter((r) => r === '*' || r === 'secrets' || r.startsWith('nodes/'))).to.deep.equal([]);
    expect(role.rules.flatMap((rule) => rule.apiGroups ?? [])).not.to.include('*');
  });

  it('runs the report CronJob as non-root with a read-only root filesystem and a short-lived token', () => {
    const cronJob = loadAll(base).find((doc) => (doc as { kind: string }).kind === 'CronJob') as Record<string, any>;
    const pod = cronJob.spec.jobTemplate.spec.template.spec;
    expect(pod.automountServiceAccountToken).to.equal(false);
    expect(pod.securityContext).to.deep.include({ runAsNonRoot: true });
    expect(pod.containers[0].securityContext).to.deep.include({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(pod.containers[0].args).to.include.members(['--in-cluster', '--history']);
    const projected = pod.volumes.find((v: { name: string }) => v.name === 'api-token').projected.sources[0].serviceAccountToken;
    expect(projected.expirationSeconds).to.be.at.most(3600);
  });

  it('runs the watch Deployment read-only and non-root, probed on /healthz and /readyz, with its state on a PVC and a config that validates', async () => {
    const docs = loadAll(base) as Record<string, any>[];
    const deployment = docs.find((doc) => doc.kind === 'Deployment')!;
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    expect(deployment.spec.replicas).to.equal(1);
    expect(pod.securityContext).to.deep.include({ runAsNonRoot: true });
    expect(container.securityContext).to.deep.include({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(container.args).to.include.members(['watch', '--in-cluster']);
    expect(container.livenessProbe.httpGet.path).to.equal('/healthz');
    expect(container.readinessProbe.httpGet.path).to.equal('/readyz');
    const stateVolume = pod.volumes.find((v: { name: string }) => v.name === 'state');
    const claim = docs.find((doc) => doc.kind === 'PersistentVolumeClaim' && doc.metadata.name === stateVolume.persistentVolumeClaim.claimName);
    expect(claim, 'the state PVC is in the base').to.not.equal(undefined);
    const configMap = docs.find((doc) => doc.kind === 'ConfigMap' && doc.metadata.name === 'kscan-watch')!;
    const { parseWatchConfig } = await import('../src/watch/config.js');
    const config = parseWatchConfig(configMap.data['watch.yaml'], 'watch.yaml', { KSCAN_WEBHOOK_SECRET: 'x' });
    expect(config.state?.startsWith(container.volumeMounts.find((m: { name: string }) => m.name === 'state').mountPath)).to.equal(true);
    expect(config.listen).to.match(/:8080$/);
  });
});

// No Docker engine runs here, so the image is checked as text: what it copies must exist and be
// what the CLI loads at run time, the base must be an exact release, and the user must not be root.
describe('Dockerfile', () => {
  let dockerfile: string;
  before(async () => {
    dockerfile = await readFile(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
  });

  it('copies only paths that exist, including everything the CLI reads at run time', async () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/));
    for (const source of sources) expect(await stat(path.join(REPO_ROOT, source)).then(() => true, () => false), source).to.equal(true);
    const { files } = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { files: string[] };
    // The npm package and the image ship the same run-time files.
    // What the build makes (dist/src, the command manifest) comes from the build stage.
    const built = [...dockerfile.matchAll(/^COPY --from=build \/src\/(\S+) /gm)].map((m) => m[1]);
    expect(built).to.include.members(['dist/src', 'oclif.manifest.json']);
    for (const file of files.filter((f) => !built.includes(f))) expect(sources, file).to.include(file);
  });

  it('runs as a non-root user on an exactly pinned base', () => {
    expect(dockerfile).to.match(/^USER [1-9]\d*:[1-9]\d*$/m);
    expect(dockerfile).to.match(/^ARG NODE_IMAGE=node:\d+\.\d+\.\d+-[a-z]+-slim$/m);
    expect(dockerfile).not.to.match(/:latest/);
  });
});
