// A snapshot's audit/ directory (audit log samples) is analysed with the snapshot. From a .tar.gz
// only audit/ is unpacked, to a temporary directory removed after the scan.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tar from 'tar';

export interface SnapshotAudit {
  /** The audit directory to read, or undefined when the snapshot has none. */
  dir?: string;
  cleanup(): Promise<void>;
}

export async function snapshotAudit(location: string): Promise<SnapshotAudit> {
  const none: SnapshotAudit = { cleanup: async () => {} };
  const info = await stat(location).catch(() => undefined);
  if (!info) return none;
  if (info.isDirectory()) {
    const dir = path.join(location, 'audit');
    return (await stat(dir).catch(() => undefined))?.isDirectory() ? { dir, cleanup: none.cleanup } : none;
  }
  const temp = await mkdtemp(path.join(tmpdir(), 'kscan-audit-'));
  const cleanup = () => rm(temp, { recursive: true, force: true });
  try {
    await tar.extract({ file: location, cwd: temp, filter: (entry) => entry === 'audit' || entry.startsWith('audit/') || entry.startsWith('./audit/') });
    const dir = path.join(temp, 'audit');
    if ((await stat(dir).catch(() => undefined))?.isDirectory()) return { dir, cleanup };
  } catch {
    // readSnapshot reports an unreadable archive; without audit/ there is nothing to add here.
  }
  await cleanup();
  return none;
}
