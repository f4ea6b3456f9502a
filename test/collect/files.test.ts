import { expect } from 'chai';
import { mkdtemp, writeFile, mkdir, chmod, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { collectFiles, parseManifestText, MAX_EXPANDED_NODES, MAX_FILE_BYTES } from '../../src/collect/files.js';
import { SourceLocator, locateByIndentation, locateByParsing } from '../../src/collect/locate.js';

const DEPLOYMENT = `# a comment before the first document
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      containers:
      - name: app
        image: nginx:1.25
      - name: sidecar
        image: envoy:1.29
        securityContext:
          privileged: true
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  ports:
    - port: 80
      nodePort: 30080
`;

function parse(text: string, file = 'm.yaml') {
  const locator = new SourceLocator();
  return { ...parseManifestText(file, text, locator), locator };
}

describe('file collection', () => {
  it('reads every document of a multi-document file with its first line', () => {
    const { objects, errors } = parse(DEPLOYMENT);
    expect(errors).to.deep.equal([]);
    expect(objects.map((o) => [o.object.kind, o.source?.line, o.source?.index])).to.deep.equal([
      ['Deployment', 2, 0],
      ['Service', 18, 1],
    ]);
  });

  it('reads YAML as the API server does: timestamps stay strings, merge keys merge', () => {
    const { objects, errors } = parse(`apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  creationTimestamp: 2024-05-01T10:00:00Z
data:
  defaults: &defaults { retries: "3", timeout: 30s }
  expires: 2027-03-31
---
apiVersion: v1
kind: Pod
metadata: { name: p }
spec:
  containers:
    - &base { name: a, image: "app:1", imagePullPolicy: Always }
    - <<: *base
      name: b
`);
    expect(errors).to.deep.equal([]);
    const [configMap, pod] = objects.map((o) => o.object as unknown as Record<string, Record<string, unknown>>);
    expect(configMap.metadata.creationTimestamp).to.equal('2024-05-01T10:00:00Z');
    expect(configMap.data.expires).to.equal('2027-03-31');
    expect((pod.spec.containers as unknown[])[1]).to.deep.equal({ name: 'b', image: 'app:1', imagePullPolicy: 'Always' });
  });

  it('locates fields in compact and indented sequences exactly', () => {
    const { objects, locator } = parse(DEPLOYMENT);
    const [deployment, service] = objects;
    const privileged = locator.locate(deployment.source!, ['spec', 'template', 'spec', 'containers', 1, 'securityContext', 'privileged']);
    expect(privileged).to.deep.equal({ file: 'm.yaml', line: 16, column: 11 });
    const image = locator.locate(deployment.source!, ['spec', 'template', 'spec', 'containers', 0, 'image']);
    expect(image).to.deep.include({ line: 12, column: 9 });
    const nodePort = locator.locate(service.source!, ['spec', 'ports', 0, 'nodePort']);
    expect(nodePort).to.deep.include({ line: 26, column: 7 });
  });

  it('falls back to a full parse for flow style and agrees with it on block style', () => {
    const text = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, securityContext: {privileged: true}}]\n';
    const { objects, locator } = parse(text);
    const position = locator.locate(objects[0].source!, ['spec', 'containers', 0, 'securityContext', 'privileged']);
    expect(position).to.deep.include({ line: 5, column: 44 });
    const lines = DEPLOYMENT.split('\n');
    const fieldPath = ['spec', 'template', 'spec', 'containers', 1, 'image'];
    const fast = locateByIndentation(lines, 1, 17, fieldPath);
    const slow = locateByParsing(lines.slice(1, 17).join('\n'), fieldPath);
    expect(fast).to.deep.include({ line: 14, column: 9 });
    expect(slow).to.deep.equal({ line: 13, column: 9 }); // relative to the document's first line
  });

  it('flattens kind: List (kubectl get -o yaml) and locates items inside it', () => {
    const text = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: a
  spec:
    hostNetwork: true
- apiVersion: v1
  kind: Pod
  metadata:
    name: b
  spec:
    hostPID: true
`;
    const { objects, locator } = parse(text);
    expect(objects.map((o) => o.object.metadata.name)).to.deep.equal(['a', 'b']);
    expect(locator.locate(objects[1].source!, ['spec', 'hostPID'])).to.deep.include({ line: 15, column: 5 });
  });

  it('reports a malformed document with its line and keeps the others', () => {
    const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [broken\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: fine\n';
    const { objects, errors } = parse(text, 'bad.yaml');
    expect(objects.map((o) => o.object.metadata.name)).to.deep.equal(['ok', 'fine']);
    expect(errors).to.have.length(1);
    expect(errors[0].source).to.equal('bad.yaml');
    expect(errors[0].line).to.be.within(9, 10);
    expect(errors[0].message).to.match(/^invalid YAML/);
  });

  it('rejects documents without kind or apiVersion, and non-mappings, naming the line', () => {
    const { objects, errors } = parse('metadata:\n  name: x\n---\n- just\n- a list\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n');
    expect(objects).to.have.length(1);
    expect(errors.map((e) => [e.line, e.message])).to.deep.equal([
      [1, 'document has no apiVersion or kind: not a Kubernetes object'],
      [4, 'document is not a mapping (expected a Kubernetes object with apiVersion and kind)'],
    ]);
  });

  it('stops a YAML alias bomb (billion laughs) quickly with a clear error', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      levels.push(`${cur}: &${cur} [${Array(9).fill('*' + prev).join(',')}]`);
    }
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  ${levels.join('\n  ')}\n`;
    const started = Date.now();
    const { objects, errors } = parse(text, 'bomb.yaml');
    expect(Date.now() - started).to.be.below(5000);
    expect(objects).to.have.length(0);
    expect(errors[0].message).to.contain(`more than ${MAX_EXPANDED_NODES} nodes`);
  });

  it('reads JSON, including a JSON List, and reports invalid JSON with its line', () => {
    const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {} }] }, null, 2);
    expect(parse(list, 'l.json').objects[0].object.metadata.name).to.equal('p');
    const bad = parse('{\n  "apiVersion": "v1",\n  "kind": "Pod" "x"\n}', 'bad.json');
    expect(bad.objects).to.have.length(0);
    expect(bad.errors[0]).to.include({ source: 'bad.json', line: 3 });
    expect(bad.errors[0].message).to.match(/^invalid JSON: Expected ',' or '}'/);
  });

  it('walks directories, skips unreadable, binary and missing inputs with a message for each', async function () {
    const dir = await mkdtemp(path.join(tmpdir(), 'kscan-files-'));
    await mkdir(path.join(dir, 'nested', 'deeper'), { recursive: true });
    await writeFile(path.join(dir, 'a.yaml'), DEPLOYMENT);
    await writeFile(path.join(dir, 'nested', 'deeper', 'b.yml'), 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n');
    await writeFile(path.join(dir, 'nested', 'README.md'), '# not a manifest');
    await writeFile(path.join(dir, 'nested', 'blob.yaml'), Buffer.from([0x00, 0x01, 0x02, 0x03]));
    const huge = path.join(dir, 'huge.yaml');
    await writeFile(huge, 'apiVersion: v1\n');
    await truncate(huge, MAX_FILE_BYTES + 1024 * 1024); // sparse: costs no disk
    const locked = path.join(dir, 'locked.yaml');
    await writeFile(locked, 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: secret\n');
    await chmod(locked, 0);
    const result = await collectFiles([dir, path.join(dir, 'missing.yaml')]);
    expect(result.objects.map((o) => o.object.kind).sort()).to.include.members(['Deployment', 'Namespace', 'Service']);
    const messages = result.coverage.errors.map((e) => `${path.basename(e.source)}: ${e.message}`);
    expect(messages).to.include('blob.yaml: binary file (contains NUL bytes), not a manifest');
    expect(messages).to.include('missing.yaml: no such file or directory');
    expect(messages).to.include(`huge.yaml: file is 65 MiB, larger than the 64 MiB limit`);
    if (process.getuid?.() !== 0) expect(messages).to.include('locked.yaml: permission denied');
  });
});
