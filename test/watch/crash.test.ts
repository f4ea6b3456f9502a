// `kscan watch` as a child process, the way it runs in a pod: SIGKILL in the middle of a delivery
// loses nothing (the outbox is committed before sending), and a restart re-sends only with the
// same event ids; SIGTERM drains the queue; a bad config exits 2 with one line.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFixtureApiServer, type FixtureApiServer } from '../support/api-server.js';
import { runKscan } from '../support/cli.js';
import { deployment, namespace, privilegedEvents, startReceiver, waitFor, type Answer } from './support.js';

const RUN = fileURLToPath(new URL('../../../bin/run.js', import.meta.url));

interface Child { process: ChildProcess; stderr: string[]; exited: Promise<number | null> }

function watchProcess(args: string[]): Child {
  const child = spawn(process.execPath, [RUN, 'watch', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  return { process: child, stderr, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

describe('watch: crash and shutdown', function () {
  this.timeout(90_000);
  let dir: string;
  let server: FixtureApiServer;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kscan-watch-crash-'));
    server = await startFixtureApiServer({ objects: [namespace('team-a'), deployment('team-a', 'web', false)] });
  });
  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function configFile(url: string): Promise<string> {
    const file = path.join(dir, 'watch.yaml');
    await writeFile(file, ['debounce: 100ms', 'drainTimeout: 5s', 'delivery: { retryBase: 100ms, retryMax: 1s, timeout: 30s }', 'sinks:', `  - { name: hook, type: webhook, url: "${url}", route: { checks: [KS-WL-001] } }`, ''].join('\n'));
    return file;
  }

  it('loses nothing when killed with SIGKILL mid-delivery; after restart every event arrives, duplicates only with the same id', async () => {
    // The first request hangs (kscan is killed while waiting for it); later ones succeed.
    let hang = true;
    const hook = await startReceiver((): Answer => (hang ? 'hang' : { status: 200 }));
    const args = ['--config', await configFile(hook.url), '--kubeconfig', server.kubeconfigPath, '--state', path.join(dir, 'state.sqlite'), '--listen', '127.0.0.1:0', '--log-level', 'debug'];
    try {
      const first = watchProcess(args);
      await waitFor('ready', () => first.stderr.join('').includes('"msg":"ready"'), 30_000);
      for (let i = 0; i < 3; i++) server.upsert(deployment('team-a', `p-${i}`, true));
      await waitFor('a delivery in flight', () => hook.received.length >= 1);
      first.process.kill('SIGKILL');
      expect(await first.exited).to.equal(null);
      const sentBeforeKill = new Set(hook.received.flatMap((r) => (r.body.events ?? []).map((e) => e.id)));

      // While kscan is down, one problem is fixed and another appears.
      server.upsert(deployment('team-a', 'p-2', false));
      server.upsert(deployment('team-a', 'p-9', true));
      hang = false;
      const second = watchProcess(args);
      await waitFor('everything delivered', () => ['p-0', 'p-1', 'p-9'].every((n) => privilegedEvents(hook.accepted(), 'team-a', n).length === 1) && privilegedEvents(hook.accepted(), 'team-a', 'p-2').length === 2, 30_000);
      // SIGTERM: a graceful exit with code 0.
      second.process.kill('SIGTERM');
      expect(await second.exited).to.equal(0);
      expect(second.stderr.join('')).to.include('"msg":"stopped","undelivered":0');

      const accepted = hook.accepted();
      // The events in flight at the kill were re-sent with their ids: nothing new was invented for them.
      for (const id of sentBeforeKill) expect(accepted.map((e) => e.id)).to.include(id);
      const ids = accepted.map((e) => e.id);
      expect(new Set(ids).size).to.equal(ids.length);
      expect(privilegedEvents(accepted, 'team-a', 'p-2').map((e) => e.type)).to.deep.equal(['opened', 'resolved']);
    } finally {
      await hook.close();
    }
  });

  it('exits 2 with one line naming the file and field on a bad config', async () => {
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, 'sinks:\n  - { name: hook, type: webhook }\n');
    const result = await runKscan(['watch', '--config', file, '--kubeconfig', server.kubeconfigPath]);
    expect(result.code).to.equal(2);
    expect(result.stderr.trim().split('\n')).to.have.length(1);
    expect(result.stderr).to.match(/bad\.yaml: sinks\.0\.url is missing/);
  });
});
