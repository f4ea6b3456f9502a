// `kscan rbac`: the RBAC part of a scan on its own — the KS-RBAC checks over the derived
// EffectivePermissions/RoleUsage objects and the RBAC report (subjects ranked by power with the
// path to each risky permission, privileged workloads with powerful accounts), with audit-log use.
import type { Check } from '../checks/loader.js';
import { runChecks } from '../checks/engine.js';
import { readAuditLogs, type ReadStats } from '../audit/reader.js';
import { Inventory } from '../inventory/inventory.js';
import type { CollectedObject, Finding } from '../model/types.js';
import { analyseRbac } from './analysis.js';
import { deriveRbacObjects } from './derive.js';
import { buildRbacReport, type RbacReport } from './report.js';
import { UsageLog } from './usage.js';

export interface RbacOverview {
  report: RbacReport;
  findings: Finding[];
  audit?: ReadStats;
}

/** The RBAC and workload checks over the objects (workload posture feeds the risky-workload chain). */
export async function rbacOverview(objects: readonly CollectedObject[], checks: Check[], audit: string[] = []): Promise<RbacOverview> {
  const analysis = analyseRbac(objects);
  const relevant = checks.filter((check) => check.category === 'rbac' || check.category === 'workload');
  const findings = runChecks(new Inventory([...objects, ...deriveRbacObjects(objects)]), relevant).findings;
  let usage: UsageLog | undefined;
  let stats: ReadStats | undefined;
  if (audit.length) {
    const log = (usage = new UsageLog());
    stats = await readAuditLogs(audit, (event) => log.add(event));
  }
  const outcome = buildRbacReport(analysis, findings, { usage, checks });
  return { report: outcome.report, findings: [...findings.filter((f) => f.category === 'rbac'), ...outcome.findings], ...(stats ? { audit: stats } : {}) };
}
