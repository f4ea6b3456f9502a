// The CEL fast path (src/checks/cel-fast.ts) against cel-js: the same answer, or the same error,
// on tricky values one expression at a time, and the same findings for every built-in check on
// every check fixture, the demo snapshot and the demo audit log.
import { expect } from 'chai';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { compileExpression, useFastPath } from '../../src/checks/cel.js';
import { loadChecks } from '../../src/checks/loader.js';
import { runChecks } from '../../src/checks/engine.js';
import { collectFiles } from '../../src/collect/files.js';
import { readSnapshot } from '../../src/collect/snapshot.js';
import { Inventory } from '../../src/inventory/inventory.js';
import { deriveObjects } from '../../src/inventory/derive.js';
import { analyzeAuditLogs } from '../../src/audit/analyze.js';
import type { CollectedObject } from '../../src/model/types.js';
import { REPO_ROOT } from '../support/cli.js';

/** Runs `fn` with checks and expressions compiled by cel-js alone, then with the fast path. */
async function both<T>(fn: () => Promise<T> | T): Promise<[T, T]> {
  useFastPath(false);
  try {
    const slow = await fn();
    useFastPath(true);
    return [slow, await fn()];
  } finally {
    useFastPath(true);
  }
}

function outcome(source: string, context: Record<string, unknown>): unknown {
  try {
    return { value: compileExpression(source)(context) };
  } catch (error) {
    return { error: (error as Error).message.split('\n')[0] };
  }
}

const OBJECT = {
  int: 1, double: 1.5, zero: 0, text: 'web', empty: '', astral: 'a😀b', nil: null, yes: true, no: false,
  list: [1, 2, 3], strings: ['a', 'b'], mixed: [1, 'a', null, [1]], nested: [[1]], map: { k: 'v', n: null, inner: { x: 1 } }, emptyMap: {},
  containers: [{ name: 'a', securityContext: { privileged: true } }, { name: 'b' }, { name: 'c', securityContext: null }],
};

const EXPRESSIONS = [
  'object.int == 1', 'object.int == 1.0', 'object.double > 1', 'object.int == "1"', 'object.nil == null', 'object.yes == 1', 'object.text != null',
  'object.missing == 1', 'object.missing == 1 || true', 'true || object.missing == 1', 'object.missing == 1 && false', 'false && object.missing',
  'object.int && true', '!object.int', 'object.int < "x"', 'object.text < "x"', 'object.int <= 1 && object.double >= 1.5',
  'has(object.missing)', 'has(object.nil)', 'has(object.map.n)', 'has(object.nil.x)', 'has(object.list.x)', 'has(object.text.x)', 'has(object.map.inner)',
  'object.nil.x == 1', 'object.list.x == 1', 'object.map.inner.x == 1', 'object.map.k == "v"',
  '1 in object.list', '4 in object.list', '"a" in object.strings', '[1] in object.nested', '"k" in object.map', '1 in object.map', 'object.text in ["web", "api"]', 'null in object.mixed',
  'size(object.text) == 3', 'size(object.astral) == 3', 'size(object.list) == 3', 'size(object.map) == 3', 'size(object.int) == 1', 'size(object.emptyMap) == 0',
  'object.text.startsWith("w")', 'object.text.endsWith("b")', 'object.text.contains("e")', 'object.int.startsWith("1")',
  'object.list.all(x, x > 0)', 'object.list.exists(x, x > 2)', 'object.mixed.all(x, x == 1)', 'object.mixed.exists(x, x == 1)', 'object.map.all(k, k != "")', 'object.text.all(c, true)',
  'object.containers.all(c, !has(c.securityContext) || c.securityContext.privileged != true)',
  'object.containers.exists(c, has(c.securityContext) && c.securityContext.privileged == true)',
  'object.containers.all(c, c.?securityContext.?privileged.orValue(false) == false)',
  'object.?map.?inner.?x.orValue(0) == 1', 'object.?map.?missing.orValue("d") == "d"', 'object.?map.?n.orValue(1) == 1', 'object.?nil.?x.orValue(1) == 1',
  'object.map[?"k"].hasValue()', 'object.map[?"zz"].hasValue()', 'object.?missing.or(object.?text).orValue("") == "web"', 'object.?list.?x.hasValue()',
  'object.list[0] == 1', 'object.list[5] == 1', 'object.map["k"] == "v"', 'object.yes ? object.int == 1 : object.missing', 'object.int ? true : false',
  'object.containers.all(c, c.containers.all(c, true))', 'object.list.exists(x, object.list.all(y, y <= x))',
  'cel.bind(m, object.?map.orValue({}), m.?k.orValue("") == "v")', 'cel.bind(m, object.?missing.orValue({}), "k" in m)', 'cel.bind(x, object.missing, true)', 'cel.bind(x, 1, cel.bind(x, 2, x == 2) && x == 1)',
  'object.?map.value == 1', 'has(object.?map.value)', 'size(object.?map) == 1', '"value" in object.?map', 'object.?map.k == "v"',
  'object.?missing.orValue({}) == {}', 'object.?int.orValue(-1) == -1', '-1 < object.zero', 'object.?missing.orValue(-2.5) < -2',
  'object.text.matches("^w[a-z]+$")', 'object.text.matches("^x")', 'object.int.matches("1")', 'object.text.trim() == "web"', 'object.int.trim() == ""',
  '"a,b,,c".split(",") == ["a", "b", "", "c"]', 'object.text.split("e").exists(p, p == "w")', 'object.astral.lowerAscii() == "a😀b"', 'object.text.split(",")[0] == "web"',
];

describe('CEL fast path', () => {
  it('agrees with cel-js on every expression over tricky values: the same value, or an error either way', async () => {
    const disagreements: string[] = [];
    for (const source of EXPRESSIONS) {
      const [slow, fast] = await both(() => outcome(source, { object: OBJECT }));
      if (JSON.stringify(slow) !== JSON.stringify(fast)) disagreements.push(`${source}: cel-js ${JSON.stringify(slow)}, fast ${JSON.stringify(fast)}`);
    }
    expect(disagreements).to.deep.equal([]);
  });

  it('finds exactly what cel-js finds with every built-in check on every check fixture and the demo snapshot', async function () {
    this.timeout(60_000);
    const fixtures: string[] = [];
    for (const entry of await readdir(path.join(REPO_ROOT, 'checks'), { recursive: true })) if (/\.(pass|fail)\.yaml$/.test(entry)) fixtures.push(path.join(REPO_ROOT, 'checks', entry));
    const files = await collectFiles(fixtures);
    const demo = await readSnapshot(path.join(REPO_ROOT, 'fixtures', 'demo'));
    for (const objects of [files.objects, demo.objects] as CollectedObject[][]) {
      const inventory = new Inventory([...objects, ...deriveObjects(objects)]);
      const [slow, fast] = await both(async () => {
        const { checks } = await loadChecks();
        const result = runChecks(inventory, checks);
        return JSON.stringify({ findings: result.findings, errors: result.errors, evaluated: [...result.evaluated] });
      });
      expect(fast.length).to.be.greaterThan(1000);
      expect(fast === slow, 'fast path and cel-js disagree').to.equal(true);
    }
  });

  it('gives the same audit findings on the demo audit log', async function () {
    this.timeout(60_000);
    const [slow, fast] = await both(async () => {
      const { checks } = await loadChecks();
      const outcome = await analyzeAuditLogs([path.join(REPO_ROOT, 'fixtures', 'demo', 'audit')], { checks });
      return JSON.stringify({ findings: outcome.findings, errors: outcome.errors });
    });
    expect(JSON.parse(fast).findings.length).to.be.greaterThan(5);
    expect(fast).to.equal(slow);
  });
});
