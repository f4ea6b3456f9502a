// Every README example that needs no live cluster runs here as written, so the documentation
// cannot drift from the CLI. An example runs when it is a `npx kscan ...` line in a sh block whose
// inputs ship with the repository (fixtures/, the built-in checks and frameworks); examples that
// name a live cluster, a kubeconfig, a shell substitution or a user's own directory are listed
// with the reason they are not run, so a new example is either run or knowingly left out.
import { expect } from 'chai';
import { mkdtemp, readFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, runKscan } from './support/cli.js';

interface Example {
  line: number;
  text: string;
}

/** Splits a command line into words, honouring single and double quotes. */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  for (const match of text.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) words.push(match[1] ?? match[2] ?? match[3]);
  return words;
}

function examples(readme: string): Example[] {
  const found: Example[] = [];
  let inShell = false;
  readme.split('\n').forEach((raw, index) => {
    if (raw.startsWith('```')) {
      inShell = !inShell && /^```(sh|bash|shell)\s*$/.test(raw);
      return;
    }
    if (inShell && raw.startsWith('npx kscan')) found.push({ line: index + 1, text: raw.replace(/\s+#.*$/, '').trim() });
  });
  return found;
}

/** Why an example cannot run here, or undefined when it can. */
function notRunnable(example: Example): string | undefined {
  const words = shellWords(example.text);
  if (/\$\(|`|~/.test(example.text)) return 'uses shell substitution or a home directory';
  if (/--context|--kubeconfig|--in-cluster|--all-contexts/.test(example.text)) return 'needs a live cluster';
  const [, , command] = words;
  if (['checks', 'frameworks'].includes(command) && !example.text.includes('--checks-dir')) return undefined;
  if (example.text.includes('fixtures/')) return undefined;
  return 'reads inputs that do not ship with the repository (a live cluster or the user\'s files)';
}

describe('README examples', function () {
  this.timeout(120_000);
  let all: Example[];
  let workdir: string;
  before(async () => {
    all = examples(await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8'));
    // Examples write result.json, reports/ and so on: run them in a scratch directory that sees fixtures/.
    workdir = await mkdtemp(path.join(tmpdir(), 'kscan-readme-'));
    await symlink(path.join(REPO_ROOT, 'fixtures'), path.join(workdir, 'fixtures'));
  });

  it('finds the examples, and runs most of them', () => {
    const runnable = all.filter((example) => !notRunnable(example));
    expect(all.length).to.be.greaterThan(20);
    expect(runnable.length).to.be.greaterThan(all.length / 2);
  });

  it('runs every offline example without a usage or input error', async () => {
    const failures: string[] = [];
    for (const example of all.filter((e) => !notRunnable(e))) {
      let words = shellWords(example.text).slice(2);
      let stdin: string | undefined;
      const redirect = words.indexOf('<');
      if (redirect >= 0) {
        stdin = await readFile(path.join(workdir, words[redirect + 1]), 'utf8');
        words = [...words.slice(0, redirect), ...words.slice(redirect + 2)];
      }
      const run = await runKscan(words, { cwd: workdir, stdin });
      // 0 clean, 1 findings at --fail-on: both are the example working. 2 is a broken example.
      if (run.code !== 0 && run.code !== 1) failures.push(`README.md:${example.line}: ${example.text} → exit ${run.code}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      else if (/Error:|at .*\.js:\d+/.test(run.stderr)) failures.push(`README.md:${example.line}: ${example.text} → stack trace on stderr: ${run.stderr.slice(0, 300)}`);
    }
    expect(failures).to.deep.equal([]);
  });
});
