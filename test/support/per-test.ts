// Fixture API servers and temporary directories a suite starts in its tests, closed and removed
// after each test (call inside describe: it registers the afterEach hook).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFixtureApiServer, type FixtureApiServer, type FixtureApiServerOptions } from './api-server.js';

export function perTestResources() {
  const servers: FixtureApiServer[] = [];
  const temps: string[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  return {
    servers,
    /** Directories (or files' directories) to remove after the test. */
    temps,
    async start(options: FixtureApiServerOptions): Promise<FixtureApiServer> {
      const server = await startFixtureApiServer(options);
      servers.push(server);
      return server;
    },
    async temp(prefix: string): Promise<string> {
      const dir = await mkdtemp(path.join(tmpdir(), prefix));
      temps.push(dir);
      return dir;
    },
  };
}
