// The mapping view of a framework for `kscan frameworks list|show`: each control with the checks
// that decide it (from the checks' own `controls:` maps), or the manual audit text.
import type { Check } from '../checks/loader.js';
import { controlsInFramework, type Framework, type FrameworkControl } from '../checks/frameworks.js';

export interface ControlMapping extends FrameworkControl {
  checks: string[];
}

export interface FrameworkMapping {
  id: string;
  title: string;
  version: string;
  url?: string;
  description?: string;
  versionMapping: Framework['versionMapping'];
  sections: { id: string; title: string }[];
  controls: ControlMapping[];
  /** Controls at least one check decides. */
  mapped: number;
}

export function frameworkMapping(framework: Framework, checks: Check[]): FrameworkMapping {
  const decidedBy = new Map<string, string[]>();
  for (const check of checks) {
    for (const id of controlsInFramework(check.controls, framework)) {
      const list = decidedBy.get(id) ?? [];
      list.push(check.id);
      decidedBy.set(id, list);
    }
  }
  const controls = framework.controls.map((control) => ({ ...control, checks: decidedBy.get(control.id) ?? [] }));
  return {
    id: framework.id,
    title: framework.title,
    version: framework.version,
    ...(framework.url ? { url: framework.url } : {}),
    ...(framework.description ? { description: framework.description } : {}),
    versionMapping: framework.versionMapping,
    sections: framework.sections,
    controls,
    mapped: controls.filter((control) => control.checks.length).length,
  };
}
