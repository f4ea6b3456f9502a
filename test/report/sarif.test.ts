import { expect } from 'chai';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runKscan } from '../support/cli.js';
import { sarifErrors } from '../support/sarif-schema.js';
import { HOSTILE, makeResult } from '../support/report-fixture.js';
import { renderSarif } from '../../src/report/sarif.js';
import type { ScanResult } from '../../src/scan/result.js';

interface SarifLog {
  $schema: string;
  version: string;
  runs: {
    tool: { driver: { name: string; version: string; rules: { id: string; help: { text: string; markdown: string }; defaultConfiguration: { level: string }; properties: Record<string, unknown> }[] } };
    invocations: { executionSuccessful: boolean; toolExecutionNotifications: { level: string; message: { text: string } }[] }[];
    results: {
      ruleId: string;
      ruleIndex: number;
      level: string;
      message: { text: string };
      locations: { physicalLocation?: { artifactLocation: { uri: string; uriBaseId?: string }; region: { startLine: number; startColumn: number } }; logicalLocations: { name: string; fullyQualifiedName: string; kind: string }[] }[];
      partialFingerprints: Record<string, string>;
      baselineState?: string;
    }[];
  }[];
}

describe('SARIF report', () => {
  it('validates against the official SARIF 2.1.0 schema, with one rule per check and severity mapped', () => {
    const result = makeResult({ findings: 30 });
    const sarif = JSON.parse(renderSarif(result, { cwd: '/work' })) as SarifLog;
    expect(sarifErrors(sarif)).to.deep.equal([]);
    const [run] = sarif.runs;
    expect(sarif.version).to.equal('2.1.0');
    expect(run.tool.driver).to.include({ name: 'kscan', version: '0.1.0' });
    expect(run.tool.driver.rules.map((r) => r.id)).to.deep.equal(result.checks.map((c) => c.id));
    const privileged = run.tool.driver.rules.find((r) => r.id === 'KS-WL-001')!;
    expect(privileged.defaultConfiguration.level).to.equal('error');
    expect(privileged.properties['security-severity']).to.equal('9.5');
    expect(privileged.properties.tags).to.include.members(['security', 'cis-k8s-1.10:5.2.2', 'pss:baseline/privileged']);
    expect(privileged.help.text).to.contain('Remediation: Fix it.');
    expect(run.tool.driver.rules.find((r) => r.id === 'KS-NET-001')!.defaultConfiguration.level).to.equal('note');
    expect(run.results).to.have.length(30);
    for (const r of run.results) expect(run.tool.driver.rules[r.ruleIndex].id).to.equal(r.ruleId);
  });

  it('rejects SARIF the schema forbids (the validator is not vacuous)', () => {
    const sarif = JSON.parse(renderSarif(makeResult({ findings: 3, fileFindings: 3 }), { cwd: '/work' })) as SarifLog;
    sarif.runs[0].results[0].level = 'fatal';
    sarif.runs[0].results[1].locations[0].physicalLocation!.region.startLine = 0;
    (sarif.runs[0] as unknown as Record<string, unknown>).language = 'english';
    const errors = sarifErrors(sarif);
    expect(errors).to.include('/runs/0/results/0/level must be equal to one of the allowed values');
    expect(errors).to.include('/runs/0/results/1/locations/0/physicalLocation/region/startLine must be >= 1');
    expect(errors.some((e) => e.startsWith('/runs/0/language must match pattern'))).to.equal(true);
  });

  it('points file findings at file, line and column, live objects at Kind/namespace/name, and carries the fingerprint', () => {
    const result = makeResult({ findings: 10, fileFindings: 5 });
    const sarif = JSON.parse(renderSarif(result, { cwd: '/work' })) as SarifLog;
    const byFingerprint = new Map(sarif.runs[0].results.map((r) => [r.partialFingerprints['kscanFindingFingerprint/v1'], r]));
    for (const finding of result.findings) {
      const sarifResult = byFingerprint.get(finding.fingerprint)!;
      expect(sarifResult, finding.fingerprint).to.exist;
      const [location] = sarifResult.locations;
      const { kind, namespace, name } = finding.object;
      expect(location.logicalLocations[0]).to.deep.include({ name, fullyQualifiedName: `${kind}/${namespace}/${name}`, kind: 'resource' });
      if (finding.location) {
        expect(location.physicalLocation!.artifactLocation).to.deep.equal({ uri: finding.location.file, uriBaseId: '%SRCROOT%' });
        expect(location.physicalLocation!.region).to.deep.equal({ startLine: finding.location.line, startColumn: finding.location.column });
      } else {
        expect(location.physicalLocation).to.equal(undefined);
      }
    }
    const notes = sarif.runs[0].invocations[0].toolExecutionNotifications.map((n) => n.message.text);
    expect(notes.some((text) => text.startsWith('VolumeSnapshotContent.snapshot.storage.k8s.io not collected (forbidden'))).to.equal(true);
    expect(notes.some((text) => text.includes('deploy/broken.yaml:3: invalid YAML'))).to.equal(true);
  });

  it('gives files outside the working directory absolute file URIs', () => {
    const result = makeResult({ findings: 2, fileFindings: 2 });
    result.findings[0].location = { file: '/elsewhere/a b.yaml', line: 4, column: 7 };
    const sarif = JSON.parse(renderSarif(result, { cwd: '/work' })) as SarifLog;
    expect(sarifErrors(sarif)).to.deep.equal([]);
    expect(sarif.runs[0].results[0].locations[0].physicalLocation!.artifactLocation).to.deep.equal({ uri: 'file:///elsewhere/a%20b.yaml' });
  });

  it('stays valid JSON and schema-valid with hostile names, and escapes Markdown in rule help', () => {
    const result = makeResult({ findings: 12, hostile: true });
    const text = renderSarif(result);
    const sarif = JSON.parse(text) as SarifLog;
    expect(sarifErrors(sarif)).to.deep.equal([]);
    // Raw control characters never appear in the file: JSON escapes them.
    expect(text).not.to.match(/[\u0000-\u001f](?<!\n)/);
    const messages = sarif.runs[0].results.map((r) => r.message.text).join('\n');
    expect(messages).to.contain(HOSTILE.slice(0, 25));
    const help = sarif.runs[0].tool.driver.rules.map((r) => r.help.markdown).join('\n');
    expect(help).not.to.contain('[click](javascript:');
    expect(help).to.contain('\\[click\\]\\(javascript:alert\\(2\\)\\)');
  });

  it('marks findings new or unchanged when the result has history', () => {
    const result: ScanResult = makeResult({ findings: 4 });
    result.history = {
      target: 'cluster:demo',
      previous: { scannedAt: '2026-11-24T10:00:00.000Z', findings: 3, bySeverity: { critical: 1, high: 1, medium: 1, low: 0, info: 0 }, scores: {} },
      newFingerprints: [result.findings[0].fingerprint],
      resolved: [],
      stillOpen: 3,
      scoreChanges: [],
      series: [],
    };
    const sarif = JSON.parse(renderSarif(result)) as SarifLog;
    expect(sarifErrors(sarif)).to.deep.equal([]);
    expect(sarif.runs[0].results.map((r) => r.baselineState)).to.deep.equal(['new', 'unchanged', 'unchanged', 'unchanged']);
  });

  it('is written by kscan manifests with URIs relative to the working directory and the exact field position', async () => {
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'kscan-sarif-')), 'out');
    const run = await runKscan(['manifests', 'fixtures/manifests/', '--format', 'sarif,json', '--output-dir', out]);
    expect(run.code, run.stderr).to.equal(0);
    const sarif = JSON.parse(await readFile(path.join(out, 'kscan-manifests.sarif'), 'utf8')) as SarifLog;
    const json = JSON.parse(await readFile(path.join(out, 'kscan-manifests.json'), 'utf8')) as ScanResult;
    expect(sarifErrors(sarif)).to.deep.equal([]);
    expect(sarif.runs[0].results).to.have.length(json.findings.length);
    const fileFinding = json.findings.find((f) => f.location)!;
    const sarifResult = sarif.runs[0].results.find((r) => r.partialFingerprints['kscanFindingFingerprint/v1'] === fileFinding.fingerprint)!;
    const physical = sarifResult.locations[0].physicalLocation!;
    expect(physical.artifactLocation.uri).to.match(/^fixtures\/manifests\/.+\.(ya?ml|json)$/);
    expect(path.resolve(physical.artifactLocation.uri)).to.equal(path.resolve(fileFinding.location!.file));
    expect(physical.region).to.deep.equal({ startLine: fileFinding.location!.line, startColumn: fileFinding.location!.column });
  });
});
