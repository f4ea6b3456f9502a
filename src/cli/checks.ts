// Loading checks for the `checks` topic, with load errors reported once.
import { loadChecks, BUILTIN_CHECKS_DIR, type Check } from '../checks/loader.js';
import { selectChecks } from '../scan/scan.js';
import { resolveFrameworks } from '../checks/frameworks.js';

export async function loadForCli(checksDirs: string[] = [], frameworks: string[] = []): Promise<{ checks: Check[]; dirs: string[]; loadErrors: string[] }> {
  const loaded = await loadChecks(checksDirs);
  return {
    checks: selectChecks(loaded.checks, resolveFrameworks(frameworks)),
    dirs: [BUILTIN_CHECKS_DIR, ...checksDirs],
    loadErrors: loaded.errors.map((e) => `${e.source}: ${e.message}`),
  };
}
