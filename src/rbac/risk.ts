// Which single rules the risky-permission checks flag: the subject view (one rule per resource) and
// audit-use marking (one rule per request) put narrowed rules to the KS-RBAC checks. Each rule's
// grant text is an index token, and the findings' messages (which list the offending grants) name
// the rules back. Evaluated as a non-system subject, so a system component's powers show too.
import type { Check } from '../checks/loader.js';
import { runChecks } from '../checks/engine.js';
import { Inventory } from '../inventory/inventory.js';
import type { Finding } from '../model/types.js';
import { EFFECTIVE_PERMISSIONS_KIND } from './derive.js';
import type { SubjectRef } from './model.js';

const TOKEN = /\u27e6(\d+)\u27e7/g;

/** For each rule index, the findings that name it (rules are EffectivePermissions rule objects). */
export function flagRules(name: string, subject: SubjectRef | undefined, rules: Record<string, unknown>[], checks: Check[]): Map<number, Finding[]> {
  const relevant = checks.filter((check) => check.match?.kinds?.includes(EFFECTIVE_PERMISSIONS_KIND));
  const out = new Map<number, Finding[]>();
  if (!rules.length || !relevant.length) return out;
  const object = {
    apiVersion: 'kscan.io/v1',
    kind: EFFECTIVE_PERMISSIONS_KIND,
    metadata: { name, ...(subject?.namespace ? { namespace: subject.namespace } : {}) },
    subject: subject ? { ...subject } : {},
    system: false,
    exists: true,
    defaultServiceAccount: subject?.kind === 'ServiceAccount' && subject.name === 'default',
    workloads: [],
    rules: rules.map((rule, i) => ({ ...rule, grant: `\u27e6${i}\u27e7`, system: false })),
  };
  for (const finding of runChecks(new Inventory([{ object }]), relevant).findings) {
    for (const match of finding.message.matchAll(TOKEN)) {
      const i = Number(match[1]);
      const list = out.get(i);
      if (list) list.push(finding);
      else out.set(i, [finding]);
    }
  }
  return out;
}
