// Framework selection for --framework. The full control catalogues (titles, manual controls,
// scoring) live with the frameworks issue; here a framework id selects the checks mapped to it.
import type { FrameworkControls } from '../model/types.js';
import { InputFailure } from '../util/errors.js';

interface FrameworkSelector {
  title: string;
  /** Key in a check's `controls` map. */
  key: string;
  /** Only controls with this prefix count (PSS baseline is a subset of restricted). */
  prefix?: string;
}

export const FRAMEWORKS: Record<string, FrameworkSelector> = {
  cis: { title: 'CIS Kubernetes Benchmark v1.10', key: 'cis-k8s-1.10' },
  'pss-baseline': { title: 'Pod Security Standards: baseline', key: 'pss', prefix: 'baseline/' },
  'pss-restricted': { title: 'Pod Security Standards: restricted (includes baseline)', key: 'pss' },
  nsa: { title: 'NSA/CISA Kubernetes Hardening Guide', key: 'nsa' },
  mitre: { title: 'MITRE ATT&CK for containers', key: 'mitre' },
};

export function frameworkIds(): string[] {
  return [...Object.keys(FRAMEWORKS), 'all'];
}

/** Validates --framework values; `all` selects every framework. */
export function resolveFrameworks(ids: string[]): string[] {
  const unknown = ids.filter((id) => id !== 'all' && !FRAMEWORKS[id]);
  if (unknown.length) throw new InputFailure(`unknown framework ${unknown.map((id) => `"${id}"`).join(', ')}; choose from ${frameworkIds().join(', ')}`);
  return ids.includes('all') ? Object.keys(FRAMEWORKS) : [...new Set(ids)];
}

export function checkInFrameworks(controls: FrameworkControls, frameworks: string[]): boolean {
  return frameworks.some((id) => {
    const selector = FRAMEWORKS[id];
    const list = controls[selector.key] ?? [];
    return selector.prefix ? list.some((control) => control.startsWith(selector.prefix!)) : list.length > 0;
  });
}
