// Hostile input, end to end: deep nesting, 100 MB lines, invalid UTF-8 and NUL bytes, gzip bombs,
// terminal escapes in names and file names, and regular expressions that backtrack. (Alias bombs:
// test/collect/files.test.ts; escaping in every report format: test/report/injection.test.ts.)
import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { collectFiles } from '../../src/collect/files.js';
import { compileExpression } from '../../src/checks/cel.js';
import { readAuditLogs, GZIP_RATIO_FLOOR_BYTES, MAX_GZIP_RATIO } from '../../src/audit/reader.js';
import type { ScanResult } from '../../src/scan/result.js';
import { runKscan } from '../support/cli.js';

const EVENT = (verb: string, name = 'web') => JSON.stringify({
  kind: 'Event', apiVersion: 'audit.k8s.io/v1', stage: 'ResponseComplete', verb, auditID: `id-${verb}-${name}`,
  user: { username: 'alice' }, objectRef: { resource: 'pods', namespace: 'shop', name },
  responseStatus: { code: 200 }, requestReceivedTimestamp: '2026-11-20T08:00:00Z',
});
const POD = (name: string) => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  hostNetwork: true\n  containers: [{name: c, image: nginx}]\n`;
/** C0/C1 controls a terminal would obey (tab and line feed are layout). */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('Hostile input', function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kscan-hostile-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('deep nesting: thousands of levels give a clear error for that document, a 100,000-level JSON value is scanned', async () => {
    const sub = path.join(dir, 'deep');
    await mkdir(sub);
    await writeFile(path.join(sub, 'flow.yaml'), `${POD('before')}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flow\ndata:\n  x: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n---\n${POD('after')}`);
    await writeFile(path.join(sub, 'block.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: block\nspec:\n${Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i + 1)}k:\n`).join('')}${' '.repeat(3001)}v\n`);
    await writeFile(path.join(sub, 'deep.json'), `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"deepjson"},"spec":{"hostPID":true,"containers":[{"name":"c","image":"x:1"}],"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`);
    const output = path.join(dir, 'deep.json');
    const run = await runKscan(['manifests', sub, '--format', 'json', '--output', output]);
    expect(run.code, run.stderr).to.equal(0);
    const result = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(output, 'utf8'))) as ScanResult;
    const named = (name: string) => result.findings.filter((f) => f.object.name === name).map((f) => f.checkId);
    expect(named('before')).to.include('KS-WL-003'); // host network
    expect(named('after')).to.include('KS-WL-003');
    expect(named('deepjson')).to.include('KS-WL-004'); // host PID
    const errors = result.coverage.errors.map((e) => `${path.basename(e.source)}:${e.line}: ${e.message}`);
    expect(errors).to.include.members([
      'flow.yaml:9: invalid YAML: nested too deeply to parse (thousands of levels)',
      'block.yaml:1: invalid YAML: nested too deeply to parse (thousands of levels)',
    ]);
    expect(run.stderr).to.not.contain('Maximum call stack');
  });

  it('a 100 MB single line: a manifest is refused by size at once, an audit line is skipped and the next ones read, in linear time', async () => {
    const sub = path.join(dir, 'long');
    await mkdir(sub);
    const line = Buffer.alloc(100_000_000, 'x');
    await writeFile(path.join(sub, 'one-line.yaml'), line);
    await writeFile(path.join(sub, 'ok.yaml'), POD('ok'));
    const collected = await collectFiles([sub]);
    expect(collected.objects.map((o) => o.object.metadata.name)).to.deep.equal(['ok']);
    expect(collected.coverage.errors.map((e) => `${path.basename(e.source)}: ${e.message}`)).to.deep.equal(['one-line.yaml: file is 95 MiB, larger than the 64 MiB limit']);

    const log = path.join(dir, 'long.jsonl');
    await writeFile(log, Buffer.concat([Buffer.from(EVENT('get', 'first') + '\n'), line, Buffer.from('\n' + EVENT('list', 'third') + '\n')]));
    const seen: string[] = [];
    // Quadratic rescanning of the held line took 35 s here; linear takes well under 2 s. The bound is generous for a loaded machine.
    const started = Date.now();
    const stats = await readAuditLogs([log], (event) => seen.push(event.objectRef?.name ?? ''));
    expect(Date.now() - started).to.be.below(20_000);
    expect(seen).to.deep.equal(['first', 'third']);
    expect(stats).to.deep.include({ lines: 3, events: 2, malformed: 1 });
    expect(stats.problems[0]).to.deep.include({ line: 2, message: 'line longer than 64 MiB skipped' });
  });

  it('invalid UTF-8 and NUL bytes: a manifest document with a NUL is reported by line, invalid UTF-8 is read as U+FFFD; audit lines likewise', async () => {
    const sub = path.join(dir, 'bytes');
    await mkdir(sub);
    const padding = `# ${'-'.repeat(78)}\n`.repeat(120); // past the 8 KiB binary sniff
    await writeFile(path.join(sub, 'mixed.yaml'), Buffer.concat([
      Buffer.from(`${padding}${POD('good')}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nul\ndata:\n  k: "a`),
      Buffer.from([0x00]),
      Buffer.from(`b"\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: latin\n  labels:\n    team: "caf`),
      Buffer.from([0xe9, 0xff, 0xfe]),
      Buffer.from('"\n'),
    ]));
    const collected = await collectFiles([sub]);
    expect(collected.objects.map((o) => o.object.metadata.name)).to.deep.equal(['good', 'latin']);
    expect(collected.objects[1].object.metadata.labels?.team).to.equal('caf\ufffd\ufffd\ufffd');
    const [error] = collected.coverage.errors;
    expect(collected.coverage.errors).to.have.length(1);
    expect(error.source).to.equal(path.join(sub, 'mixed.yaml'));
    expect(error.line).to.equal(120 + 7 + 2); // js-yaml checks printability before parsing: the document's first line
    expect(error.message).to.match(/^invalid YAML: null byte is not allowed/);

    const log = path.join(dir, 'bytes.jsonl');
    const nulLine = Buffer.from(EVENT('get', 'nul-here'));
    nulLine[nulLine.indexOf('nul-here')] = 0x00;
    const badUtf8 = Buffer.from(EVENT('list', 'utf8-XX'));
    badUtf8.set([0xc3, 0x28], badUtf8.lastIndexOf('XX'));
    await writeFile(log, Buffer.concat([nulLine, Buffer.from('\n'), badUtf8, Buffer.from('\n' + EVENT('watch', 'last') + '\n')]));
    const names: string[] = [];
    const stats = await readAuditLogs([log], (event) => names.push(event.objectRef?.name ?? ''));
    expect(names).to.deep.equal(['utf8-\ufffd(', 'last']);
    expect(stats).to.deep.include({ lines: 3, events: 2, malformed: 1 });
    expect(stats.problems[0].line).to.equal(1);
  });

  it('a gzip bomb in audit input is stopped with a per-file error, and the other files are still read', async () => {
    // Concatenated gzip members decompress as one stream: 300 copies of 1 MiB of zeros, about 300 KB on disk.
    const member = gzipSync(Buffer.alloc(1024 * 1024));
    const bomb = path.join(dir, 'audit-bomb.log.gz');
    await writeFile(bomb, Buffer.concat([gzipSync(EVENT('get', 'before-bomb') + '\n'), ...Array(300).fill(member)]));
    const normal = path.join(dir, 'audit-normal.log.gz');
    await writeFile(normal, gzipSync(Array.from({ length: 1000 }, (_, i) => EVENT('get', `pod-${i}`)).join('\n') + '\n'));
    const names: string[] = [];
    const started = Date.now();
    const stats = await readAuditLogs([bomb, normal], (event) => names.push(event.objectRef?.name ?? ''));
    expect(Date.now() - started).to.be.below(30_000);
    expect(names[0]).to.equal('before-bomb');
    expect(names.slice(1)).to.have.length(1000);
    const bombProblems = stats.problems.filter((p) => p.source === bomb);
    expect(bombProblems).to.have.length(1);
    expect(bombProblems[0].message).to.contain(`gzip data expands more than ${MAX_GZIP_RATIO} times (a gzip bomb?)`);
    expect(stats.problems.filter((p) => p.source === normal)).to.deep.equal([]);
    // The bound must not touch ordinary logs: 1000 distinct events compress far below the ratio.
    expect(GZIP_RATIO_FLOOR_BYTES).to.be.at.least(16 * 1024 * 1024);
  });

  it('terminal output: escape sequences in names, labels, file names and parse errors are shown escaped, never sent raw', async () => {
    const sub = path.join(dir, 'ansi');
    await mkdir(sub);
    const esc = '\u001b';
    const hostileName = `evil${esc}]0;pwned${String.fromCharCode(7)}${esc}[2J${esc}[31mred`;
    await writeFile(path.join(sub, `file-${esc}[5m.yaml`), `apiVersion: v1\nkind: Pod\nmetadata:\n  name: "${hostileName.replace(/\u001b/g, '\\e').replace(/\u0007/g, '\\a')}"\n  namespace: "ns\\u009b31m"\n  labels:\n    app: "<script>alert(1)</script> **bold** \\e[0m"\nspec:\n  hostNetwork: true\n  containers: [{name: "c\\e[1m", image: nginx}]\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [broken ${esc}[41m\n`);
    const runs = [
      await runKscan(['manifests', sub]),
      await runKscan(['manifests', sub, '--format', 'json,sarif,md', '--output-dir', path.join(dir, 'ansi-out')]),
      await runKscan(['manifests', sub, '--format', 'json']),
    ];
    for (const [i, run] of runs.entries()) {
      expect(run.code, run.stderr).to.equal(0);
      // JSON escapes C0 controls (ESC included) but, by its grammar, not DEL and C1 (U+0080-U+009F).
      expect(i === 2 ? run.stdout.replace(/[\u007f-\u009f]/g, '') + run.stderr : run.stdout + run.stderr).to.not.match(RAW_CONTROL);
    }
    const [text, summary] = runs;
    expect(text.stdout).to.contain('evil\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mred');
    // The broken document's error names the file, escaped, in the summary and on standard error.
    expect(text.stdout + text.stderr).to.contain('file-\\x1b[5m.yaml');
    expect(summary.stdout + summary.stderr).to.contain('file-\\x1b[5m.yaml');
    expect(runs[2].stderr).to.contain('file-\\x1b[5m.yaml:15: invalid YAML');
    // JSON on standard output keeps the exact value (escaped by JSON itself).
    const result = JSON.parse(runs[2].stdout) as ScanResult;
    expect(result.findings.some((f) => f.object.name === hostileName)).to.equal(true);
  });

  it('regular expressions that can backtrack catastrophically, or are computed at run time, are rejected at load; safe ones compile', async () => {
    const rejected: [string, RegExp][] = [
      ["object.metadata.name.matches('^(a+)+$')", /nested quantifier/],
      ["object.metadata.name.matches('^(a|aa)+$')", /alternatives overlap/],
      ["object.metadata.name.matches('(x|x)*y')", /alternatives overlap/],
      ["object.metadata.name.matches(\"^(?:ab|abc){2,}$\")", /alternatives overlap/],
      ['object.metadata.name.matches(object.metadata.annotations["pattern"])', /string literal pattern/],
    ];
    for (const [source, reason] of rejected) expect(() => compileExpression(source), source).to.throw(reason);
    for (const safe of ["object.metadata.name.matches('^([0-9]{1,3}\\\\.){3}[0-9]{1,3}$')", "object.metadata.name.matches('^(foo|bar)+$')", "object.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')"]) {
      expect(() => compileExpression(safe), safe).to.not.throw();
    }

    // Through the CLI: the custom check is refused with its file named, and the built-in checks still run.
    const checksDir = path.join(dir, 'custom-checks');
    await mkdir(path.join(checksDir, 'custom'), { recursive: true });
    const file = path.join(checksDir, 'custom', 'X-REDOS-001.yaml');
    await writeFile(file, "id: X-REDOS-001\ntitle: Backtracking name check\nseverity: high\ncategory: custom\nremediation: Rename the object now.\nmessage: name backtracks\nmatch: { kinds: [Pod] }\nassert: \"!object.metadata.name.matches('^(a|aa)+$')\"\n");
    const manifest = path.join(dir, 'redos.yaml');
    await writeFile(manifest, POD(`${'a'.repeat(40)}b`));
    const started = Date.now();
    const run = await runKscan(['manifests', manifest, '--checks-dir', checksDir, '--format', 'json']);
    expect(Date.now() - started).to.be.below(60_000);
    expect(run.stderr).to.contain(file).and.contain('alternatives overlap');
    const result = JSON.parse(run.stdout) as ScanResult;
    expect(result.findings.map((f) => f.checkId)).to.include('KS-WL-003').and.not.include('X-REDOS-001');
  });
});
