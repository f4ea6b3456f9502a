// Runs each check against the pass and fail fixtures beside it. A check without both fixtures,
// or a fixture without a check, is a failure: the corpus cannot drift away from its tests.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CollectedObject } from '../model/types.js';
import { Inventory } from '../inventory/inventory.js';
import { parseManifestText } from '../collect/files.js';
import { SourceLocator } from '../collect/locate.js';
import { runChecks } from './engine.js';
import type { Check } from './loader.js';
import { WORKLOAD_KINDS } from '../inventory/podspec.js';
import { deriveObjects } from '../inventory/derive.js';
import { runAuditFixture } from '../audit/fixtures.js';

/** Annotation on a fail-fixture document listing the exact finding paths it must produce. */
export const EXPECT_ANNOTATION = 'kscan.io/test-expect';

export interface FixtureOutcome {
  checkId: string;
  fixture: 'pass' | 'fail' | 'orphan';
  file: string;
  ok: boolean;
  problems: string[];
}

function applies(check: Check, kind: string): boolean {
  return (check.match.kinds ?? []).includes(kind) || (check.match.workloads === true && WORKLOAD_KINDS.includes(kind));
}

async function runFixture(check: Check, kind: 'pass' | 'fail', file: string): Promise<FixtureOutcome> {
  const problems: string[] = [];
  const locator = new SourceLocator();
  const parsed = parseManifestText(file, await readFile(file, 'utf8'), locator);
  for (const error of parsed.errors) problems.push(`${error.line ? `line ${error.line}: ` : ''}${error.message}`);
  // Derived objects (a ControlPlaneComponent from a kube-apiserver Pod) count as documents of their own.
  const objects = [...parsed.objects, ...deriveObjects(parsed.objects)];
  const { findings, errors } = runChecks(new Inventory(objects), [check], locator);
  for (const error of errors) problems.push(`${error.source}: ${error.message}`);
  const byDocument = new Map<CollectedObject, string[]>();
  for (const item of objects) byDocument.set(item, []);
  for (const finding of findings) {
    const item = objects.find((o) => o.object.kind === finding.object.kind && o.object.metadata.name === finding.object.name && o.object.metadata.namespace === finding.object.namespace);
    if (item) byDocument.get(item)!.push(finding.path);
  }
  for (const [item, paths] of byDocument) {
    const label = `${item.object.kind}/${item.object.metadata.name} (line ${item.source?.line})`;
    if (kind === 'pass' && paths.length) problems.push(`${label}: expected no finding, got ${paths.join(', ')}`);
    if (kind === 'fail' && applies(check, item.object.kind)) {
      const expected = item.object.metadata.annotations?.[EXPECT_ANNOTATION];
      if (!paths.length) problems.push(`${label}: expected a finding, got none`);
      else if (expected) {
        const want = expected.split(',').map((p) => p.trim()).sort();
        const got = [...paths].sort();
        if (want.join('\n') !== got.join('\n')) problems.push(`${label}: expected paths ${want.join(', ')}, got ${got.join(', ')}`);
      }
    }
  }
  if (!objects.some((item) => applies(check, item.object.kind))) problems.push(`fixture holds no object the check applies to, so it proves nothing`);
  return { checkId: check.id, fixture: kind, file, ok: problems.length === 0, problems };
}

export async function testChecks(checks: Check[]): Promise<FixtureOutcome[]> {
  const outcomes: FixtureOutcome[] = [];
  for (const check of checks) {
    for (const kind of ['pass', 'fail'] as const) {
      const file = check.fixtures[kind];
      if (file) outcomes.push(check.match.auditEvents ? await runAuditFixture(check, kind, file) : await runFixture(check, kind, file));
      else outcomes.push({ checkId: check.id, fixture: kind, file: check.file.replace(/\.ya?ml$/, `.${kind}.${check.match.auditEvents ? 'jsonl' : 'yaml'}`), ok: false, problems: [`check has no ${kind} fixture`] });
    }
  }
  return outcomes;
}

/** Fixture files in the given directories whose check does not exist. */
export async function orphanFixtures(dirs: string[], checks: Check[]): Promise<FixtureOutcome[]> {
  const claimed = new Set(checks.flatMap((check) => Object.values(check.fixtures)));
  const out: FixtureOutcome[] = [];
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (/\.(pass|fail)\.(yaml|jsonl)$/.test(entry.name) && !claimed.has(full)) {
        out.push({ checkId: entry.name.replace(/\.(pass|fail)\.(yaml|jsonl)$/, ''), fixture: 'orphan', file: full, ok: false, problems: ['fixture has no check beside it'] });
      }
    }
  }
  for (const dir of dirs) await walk(dir);
  return out;
}
