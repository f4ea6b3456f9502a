// What the `kscan rbac` commands share: where RBAC objects come from (a snapshot or a live cluster,
// as for `kscan cluster`), the analysis over them, and one-line input problems.
import { Flags } from '@oclif/core';
import { connectionFlags } from '../cli/flags.js';
import { collectLive } from '../collect/live.js';
import { readSnapshot } from '../collect/snapshot.js';
import type { Collection, InputError } from '../model/types.js';
import { InputFailure } from '../util/errors.js';
import { terminalSafe } from '../report/sanitize.js';
import { RbacAnalysis } from './analysis.js';
import { ResourceCatalog } from './resources.js';

export const rbacInputFlags = {
  ...connectionFlags,
  snapshot: Flags.string({ description: 'Read RBAC objects from a snapshot (directory or .tar.gz from `kscan snapshot`, e.g. fixtures/demo) instead of a live cluster.', exclusive: ['kubeconfig', 'context', 'in-cluster'] }),
  json: Flags.boolean({ description: 'Print the answer as JSON.' }),
};

export interface RbacInput {
  collection: Collection;
  analysis: RbacAnalysis;
  catalog: ResourceCatalog;
  /** Collection errors and RBAC input problems (bindings to missing roles, malformed rules). */
  problems: InputError[];
}

const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

export async function loadRbacInput(flags: { snapshot?: string; kubeconfig?: string; context?: string; 'in-cluster'?: boolean }): Promise<RbacInput> {
  const collection = flags.snapshot ? await readSnapshot(flags.snapshot) : await collectLive({ kubeconfig: flags.kubeconfig, context: flags.context, inCluster: flags['in-cluster'] });
  const where = flags.snapshot ?? collection.cluster?.name ?? 'the cluster';
  if (!collection.objects.some(({ object }) => RBAC_KINDS.has(object.kind))) {
    const forbidden = collection.coverage.kinds.filter((k) => RBAC_KINDS.has(k.kind) && k.status !== 'collected').map((k) => `${k.kind} (${k.status})`);
    throw new InputFailure(`no RBAC objects (Role, ClusterRole, RoleBinding, ClusterRoleBinding) read from ${where}${forbidden.length ? `: ${forbidden.join(', ')}` : ''}`);
  }
  const analysis = new RbacAnalysis(collection.objects);
  const problems = [...collection.coverage.errors, ...analysis.problems];
  if (analysis.problemCount > analysis.problems.length) problems.push({ source: 'RBAC', message: `${analysis.problemCount - analysis.problems.length} more RBAC problems not shown` });
  return { collection, analysis, catalog: new ResourceCatalog(collection.coverage.kinds), problems };
}

export function problemLine(problem: InputError): string {
  return `${problem.source}${problem.line ? `:${problem.line}` : ''}: ${problem.message}`;
}

/** Input problems go to standard error, one line each, so JSON on standard output stays clean. */
export function reportProblems(problems: InputError[]): void {
  for (const problem of problems) process.stderr.write(`kscan: warning: ${terminalSafe(problemLine(problem))}\n`);
}
