// kscan node on a fake node root (real files, modes and owners under a temp dir), and the ingestion
// of its documents by kscan cluster: good, partial, malformed and foreign-version evidence.
import { expect } from 'chai';
import { chmod, chown, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { runKscan } from '../support/cli.js';
import { readSnapshot } from '../../src/collect/snapshot.js';
import { CONTROL_PLANE_KIND, deriveObjects } from '../../src/inventory/derive.js';

const KUBELET_CONFIG = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: false
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
readOnlyPort: 0
`;

async function put(root: string, file: string, content: string, mode: number, owner?: [number, number]): Promise<void> {
  const full = path.join(root, file);
  await mkdir(path.dirname(full), { recursive: true });
  await writeFile(full, content);
  await chmod(full, mode);
  if (owner) await chown(full, owner[0], owner[1]);
}

/** A kubeadm control-plane node: static pods, kubeconfigs, PKI, etcd data, a kubelet process in proc/. */
async function fakeNode(): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'kscan-node-'));
  await put(root, 'etc/passwd', 'root:x:0:0:root:/root:/bin/bash\netcd:x:115:121::/var/lib/etcd:/usr/sbin/nologin\nubuntu:x:1000:1000::/home/ubuntu:/bin/bash\n', 0o644);
  await put(root, 'etc/group', 'root:x:0:\netcd:x:121:\nubuntu:x:1000:\n', 0o644);
  await put(root, 'etc/hostname', 'CP-1\n', 0o644);
  for (const name of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd']) await put(root, `etc/kubernetes/manifests/${name}.yaml`, 'apiVersion: v1\nkind: Pod\n', 0o600);
  await put(root, 'etc/kubernetes/admin.conf', 'apiVersion: v1\nkind: Config\n', 0o600);
  await put(root, 'etc/kubernetes/kubelet.conf', 'apiVersion: v1\nkind: Config\n', 0o644, [1000, 1000]);
  await put(root, 'etc/kubernetes/pki/ca.crt', 'cert', 0o644);
  await put(root, 'etc/kubernetes/pki/ca.key', 'key', 0o640);
  await put(root, 'etc/kubernetes/pki/etcd/ca.key', 'key', 0o600);
  await mkdir(path.join(root, 'data/etcd'), { recursive: true });
  await chmod(path.join(root, 'data/etcd'), 0o700);
  await chown(path.join(root, 'data/etcd'), 115, 121);
  await put(root, 'var/lib/kubelet/config.yaml', KUBELET_CONFIG, 0o600);
  await put(root, 'usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf', '[Service]\n', 0o644);
  // A symlink loop: the file cannot be examined, which is an error, not an absence.
  await symlink('scheduler.conf', path.join(root, 'etc/kubernetes/scheduler.conf'));
  // Processes as /proc shows them: NUL-separated command lines.
  await put(root, 'proc/1/cmdline', '/sbin/init\0', 0o444);
  await put(root, 'proc/812/cmdline', ['etcd', '--data-dir=/data/etcd', '--client-cert-auth=true', ''].join('\0'), 0o444);
  await put(root, 'proc/977/cmdline', ['/usr/bin/kubelet', '--kubeconfig=/etc/kubernetes/kubelet.conf', '--config=/var/lib/kubelet/config.yaml', '--container-runtime-endpoint', 'unix:///run/containerd/containerd.sock', '--v=2', ''].join('\0'), 0o444);
  await put(root, 'proc/self/cmdline', 'node\0', 0o444);
  return root;
}

const schema = async () => new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(JSON.parse(await readFile('schemas/node-evidence.schema.json', 'utf8')) as object);

describe('kscan node (node evidence collection)', function () {
  this.timeout(30000);
  let root: string;
  let evidence: Record<string, any>;

  before(async () => {
    root = await fakeNode();
    const out = path.join(root, 'out');
    const result = await runKscan(['node', '--root', root, '--output-dir', out]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.contain('wrote node evidence for cp-1');
    evidence = JSON.parse(await readFile(path.join(out, 'cp-1.json'), 'utf8'));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('writes one document per node that validates against schemas/node-evidence.schema.json', async () => {
    const validate = await schema();
    expect(validate(evidence), JSON.stringify(validate.errors)).to.equal(true);
    expect(evidence).to.include({ apiVersion: 'kscan.io/v1', kind: 'NodeEvidence', nodeName: 'cp-1', hostname: 'CP-1', root });
    expect(evidence.metadata.name).to.equal('cp-1');
  });

  it('records mode, owner and group of the CIS files, with names from the node\'s passwd and group', () => {
    expect(evidence.files.apiServerManifest).to.include({ path: '/etc/kubernetes/manifests/kube-apiserver.yaml', exists: true, type: 'file', mode: '600', owner: 'root', group: 'root' });
    expect(evidence.files.kubeletConf).to.include({ mode: '644', owner: 'ubuntu', group: 'ubuntu', uid: 1000 });
    expect(evidence.files.kubeletService).to.include({ path: '/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf', mode: '644' });
    // The etcd data directory is taken from the running etcd's --data-dir.
    expect(evidence.files.etcdDataDir).to.include({ path: '/data/etcd', type: 'directory', mode: '700', owner: 'etcd', group: 'etcd' });
  });

  it('records missing files as absent and unexaminable ones as errors, without stopping', () => {
    expect(evidence.files.superAdminConf).to.deep.equal({ path: '/etc/kubernetes/super-admin.conf', exists: false });
    expect(evidence.files.kubeProxyKubeconfig.exists).to.equal(false);
    expect(evidence.files.schedulerConf.exists).to.equal(false);
    expect(evidence.files.schedulerConf.error).to.match(/ELOOP/);
    expect(evidence.errors.some((e: string) => e.includes('/etc/kubernetes/scheduler.conf'))).to.equal(true);
  });

  it('lists the PKI directory recursively', () => {
    const modes = Object.fromEntries(evidence.pki.entries.map((e: { path: string; mode: string }) => [e.path, e.mode]));
    expect(modes).to.include({ '/etc/kubernetes/pki': '755', '/etc/kubernetes/pki/ca.crt': '644', '/etc/kubernetes/pki/ca.key': '640', '/etc/kubernetes/pki/etcd': '755', '/etc/kubernetes/pki/etcd/ca.key': '600' });
  });

  it('reads the running kubelet\'s flags (both --flag=value and --flag value) and its parsed config file', () => {
    expect(evidence.kubelet).to.include({ running: true, pid: 977, configPath: '/var/lib/kubelet/config.yaml' });
    expect(evidence.kubelet.flags).to.deep.equal({ kubeconfig: '/etc/kubernetes/kubelet.conf', config: '/var/lib/kubelet/config.yaml', 'container-runtime-endpoint': 'unix:///run/containerd/containerd.sock', v: '2' });
    expect(evidence.kubelet.config.authentication.anonymous.enabled).to.equal(false);
    expect(evidence.containerRuntime.endpoint).to.equal('unix:///run/containerd/containerd.sock');
    expect(evidence.files.containerRuntimeSocket).to.deep.equal({ path: '/run/containerd/containerd.sock', exists: false });
    expect(evidence.etcd.flags['client-cert-auth']).to.equal('true');
  });

  it('records a kubelet config file that does not parse, and says so on stderr', async () => {
    await put(root, 'var/lib/kubelet/config.yaml', 'authentication: [unclosed\n', 0o600);
    const result = await runKscan(['node', '--root', root, '--node-name', 'cp-1']);
    expect(result.code).to.equal(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.kubelet.config).to.equal(undefined);
    expect(doc.kubelet.configError).to.match(/^invalid YAML/);
    expect(result.stderr).to.match(/\/var\/lib\/kubelet\/config\.yaml: invalid YAML/);
    await put(root, 'var/lib/kubelet/config.yaml', KUBELET_CONFIG, 0o600);
  });

  it('fails with exit code 2 on a --root that does not exist', async () => {
    const result = await runKscan(['node', '--root', path.join(root, 'nope')]);
    expect(result.code).to.equal(2);
    expect(result.stderr.trim().split('\n')).to.have.length(1);
    expect(result.stderr).to.contain('not a directory');
  });
});

describe('kscan cluster --node-evidence (ingestion)', function () {
  this.timeout(60000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kscan-evidence-'));
    await cp('fixtures/demo/nodes/cp-1.json', path.join(dir, 'cp-1.json'));
    await cp('fixtures/demo/nodes/worker-2.json', path.join(dir, 'worker-2.json'));
    const partial = JSON.parse(await readFile('fixtures/demo/nodes/worker-1.json', 'utf8'));
    delete partial.kubelet;
    delete partial.files.kubeletConf;
    await writeFile(path.join(dir, 'worker-1.json'), JSON.stringify(partial, null, 2));
    const future = JSON.parse(await readFile('fixtures/demo/nodes/worker-3.json', 'utf8'));
    future.apiVersion = 'kscan.io/v2';
    await writeFile(path.join(dir, 'worker-3.json'), JSON.stringify(future));
    await writeFile(path.join(dir, 'broken.json'), '{\n  "apiVersion": "kscan.io/v1",\n  "kind": "NodeEvidence",\n  oops\n}\n');
    await writeFile(path.join(dir, 'README.txt'), 'not evidence');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('uses the good documents, rejects bad ones with one error each, and names nodes left without evidence', async () => {
    // A snapshot without nodes/ plus the evidence directory.
    const snapshot = await mkdtemp(path.join(tmpdir(), 'kscan-snap-'));
    await cp('fixtures/demo/meta.json', path.join(snapshot, 'meta.json'));
    await cp('fixtures/demo/objects', path.join(snapshot, 'objects'), { recursive: true });
    const out = path.join(dir, 'result.json');
    const result = await runKscan(['cluster', '--snapshot', snapshot, '--node-evidence', dir, '--format', 'json', '--output', out]);
    await rm(snapshot, { recursive: true, force: true });
    expect(result.code, result.stderr).to.equal(0);
    const scan = JSON.parse(await readFile(out, 'utf8'));
    const coverage = scan.coverage.kinds.find((k: { kind: string }) => k.kind === 'NodeEvidence');
    expect(coverage).to.include({ group: 'kscan.io', status: 'collected', count: 2 });
    expect(coverage.error).to.contain('3 file(s) rejected');
    const errors = scan.coverage.errors.map((e: { source: string; line?: number; message: string }) => `${path.basename(e.source)}${e.line ? `:${e.line}` : ''}: ${e.message}`);
    expect(errors.find((e: string) => e.startsWith('worker-1.json'))).to.match(/partial or invalid node evidence: .*kubelet is missing/);
    expect(errors.find((e: string) => e.startsWith('worker-3.json'))).to.contain('apiVersion "kscan.io/v2" is not supported');
    expect(errors.find((e: string) => e.startsWith('broken.json'))).to.match(/^broken\.json:4: invalid JSON/);
    expect(errors.find((e: string) => e.includes('no node evidence for nodes'))).to.contain('worker-1, worker-3');
    expect(errors.some((e: string) => e.startsWith('README.txt'))).to.equal(false);
    // Findings on the good documents only: worker-2's world-readable kubelet.conf is there.
    const kubeletConf = scan.findings.filter((f: { checkId: string }) => f.checkId === 'KS-NODE-023');
    expect(kubeletConf.map((f: { object: { name: string } }) => f.object.name)).to.deep.equal(['worker-2']);
    expect(scan.findings.some((f: { object: { kind: string; name: string } }) => f.object.kind === 'NodeEvidence' && ['worker-1', 'worker-3'].includes(f.object.name))).to.equal(false);
  });

  it('fails with exit code 2 when the evidence directory does not exist', async () => {
    const result = await runKscan(['cluster', '--snapshot', 'fixtures/demo', '--node-evidence', path.join(dir, 'missing'), '--format', 'json', '--output', path.join(dir, 'x.json')]);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('node evidence directory not found');
  });
});

describe('demo snapshot: node evidence and control-plane components', function () {
  this.timeout(60000);

  it('reads nodes/ of the snapshot as NodeEvidence objects, all valid', async () => {
    const demo = await readSnapshot('fixtures/demo');
    const evidence = demo.objects.filter((o) => o.object.kind === 'NodeEvidence').map((o) => o.object.metadata.name).sort();
    expect(evidence).to.deep.equal(['cp-1', 'worker-1', 'worker-2', 'worker-3']);
    expect(demo.coverage.kinds.find((k) => k.kind === 'NodeEvidence')).to.include({ status: 'collected', count: 4 });
    expect(demo.coverage.errors).to.deep.equal([]);
  });

  it('derives one ControlPlaneComponent per control-plane static pod, with its flags parsed', async () => {
    const demo = await readSnapshot('fixtures/demo');
    // Other derivations (RBAC) add kinds of their own; these are the control-plane ones.
    const derived = deriveObjects(demo.objects).map((o) => o.object as Record<string, any>).filter((o) => o.kind === CONTROL_PLANE_KIND);
    expect(derived.every((o) => o.apiVersion === 'kscan.io/v1')).to.equal(true);
    expect(derived.map((o) => o.component).sort()).to.deep.equal(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
    const apiserver = derived.find((o) => o.component === 'kube-apiserver')!;
    expect(apiserver).to.deep.include({ node: 'cp-1', pod: { namespace: 'kube-system', name: 'kube-apiserver-cp-1' } });
    expect(apiserver.flags).to.include({ 'authorization-mode': 'Node,RBAC', 'enable-admission-plugins': 'NodeRestriction', 'secure-port': '6443' });
    expect(apiserver.flags).to.not.have.property('profiling');
    // Every other pod of the demo (CoreDNS, kube-proxy, workloads) derives nothing.
    expect(derived).to.have.length(4);
  });

  it('shows the planted control-plane and node findings in a scan of the demo', async () => {
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'kscan-demo-')), 'result.json');
    const result = await runKscan(['cluster', '--snapshot', 'fixtures/demo', '--format', 'json', '--output', out]);
    expect(result.code, result.stderr).to.equal(0);
    const scan = JSON.parse(await readFile(out, 'utf8'));
    const on = (id: string) => scan.findings.filter((f: { checkId: string }) => f.checkId === id).map((f: { object: { name: string } }) => f.object.name).sort();
    expect(on('KS-CP-015'), 'API server profiling').to.deep.equal(['kube-apiserver-cp-1']);
    expect(on('KS-CP-016'), 'no audit log').to.deep.equal(['kube-apiserver-cp-1']);
    expect(on('KS-NODE-033'), 'anonymous kubelet').to.deep.equal(['worker-3']);
    expect(on('KS-NODE-034'), 'AlwaysAllow kubelet').to.deep.equal(['worker-3']);
    expect(on('KS-NODE-023'), 'world-readable kubelet.conf').to.deep.equal(['worker-2']);
    expect(on('KS-NODE-010'), 'etcd data dir owner').to.deep.equal(['cp-1']);
    const message = scan.findings.find((f: { checkId: string }) => f.checkId === 'KS-NODE-033').message;
    expect(message).to.equal('kubelet on node worker-3 runs without --anonymous-auth and without a config file: anonymous requests are allowed by default');
    expect(scan.coverage.kinds.find((k: { kind: string }) => k.kind === 'ControlPlaneComponent')).to.include({ status: 'collected', count: 4 });
    await rm(path.dirname(out), { recursive: true, force: true });
  });
});
