#!/usr/bin/env node
// Summarizes a V8 .cpuprofile (from `node --cpu-prof`): top functions by self time and by total
// (inclusive) time, and self time grouped by module (a package in node_modules, a file of dist/,
// node internals, GC).
//
//   node bench/lib/cpuprofile-top.mjs <file.cpuprofile> [--top 25] [--json]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

export function summarizeProfile(profile, root = process.cwd()) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + (timeDeltas[i] ?? 0));
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

  const location = (cf) => {
    if (!cf.url) return '';
    let url = cf.url.replace(/^file:\/\//, '');
    if (url.startsWith(root)) url = path.relative(root, url);
    return `${url}:${cf.lineNumber + 1}`;
  };
  const moduleOf = (cf) => {
    const url = cf.url.replace(/^file:\/\//, '');
    if (!url) return cf.functionName.startsWith('(') ? cf.functionName : '(native/builtin)';
    if (url.startsWith('node:')) return 'node internals';
    const nm = url.lastIndexOf('node_modules/');
    if (nm >= 0) {
      const rest = url.slice(nm + 'node_modules/'.length).split('/');
      return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
    }
    return path.relative(root, url);
  };
  const keyOf = (n) => `${n.callFrame.functionName || '(anonymous)'}  ${location(n.callFrame)}`;

  const self = new Map();
  const modules = new Map();
  const total = new Map();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    const key = keyOf(node);
    self.set(key, (self.get(key) ?? 0) + us);
    const mod = moduleOf(node.callFrame);
    modules.set(mod, (modules.get(mod) ?? 0) + us);
    // Inclusive: every distinct function on the stack gets the sample once (recursion counted once).
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const k = keyOf(byId.get(cur));
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + us);
    }
  }
  const sorted = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, ms: us / 1000, percent: (100 * us) / totalUs }));
  return { totalMs: totalUs / 1000, self: sorted(self), total: sorted(total), modules: sorted(modules) };
}

if (process.argv[1] && path.resolve(process.argv[1]).endsWith('cpuprofile-top.mjs')) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, json: { type: 'boolean', default: false } } });
  if (!positionals[0]) {
    console.error('usage: cpuprofile-top.mjs <file.cpuprofile> [--top N] [--json]');
    process.exit(2);
  }
  const summary = summarizeProfile(JSON.parse(readFileSync(positionals[0], 'utf8')));
  const top = Number(values.top);
  if (values.json) {
    console.log(JSON.stringify({ totalMs: summary.totalMs, self: summary.self.slice(0, top), total: summary.total.slice(0, top), modules: summary.modules.slice(0, top) }, null, 2));
  } else {
    const show = (title, rows) => {
      console.log(`\n${title}`);
      for (const r of rows.slice(0, top)) console.log(`${r.ms.toFixed(0).padStart(7)} ms ${r.percent.toFixed(1).padStart(5)}%  ${r.name}`);
    };
    console.log(`sampled ${summary.totalMs.toFixed(0)} ms`);
    show('self time by module', summary.modules);
    show('self time by function', summary.self);
    show('total (inclusive) time by function', summary.total);
  }
}
