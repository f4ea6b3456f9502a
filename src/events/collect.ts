// Live collection of Events. The posture collection (src/collect/live.ts) skips them as
// high-volume noise; here they are listed on their own from both APIs, events.k8s.io/v1 and core/v1
// (a real API server shows the same stored events through both: each uid is kept once), paged and
// capped, for the Warning summary.
import type { InputError, K8sObject } from '../model/types.js';
import { loadKubeConfig, type LoadKubeConfigOptions } from '../collect/kube/kubeconfig.js';
import { ApiStatusError, describe, makeClient, type ClientOptions } from '../collect/kube/client.js';

/** Events read at most: clusters keep an hour of them, which on a busy cluster is a lot. */
const MAX_EVENTS = 50_000;
const SOURCES = [
  { path: '/apis/events.k8s.io/v1/events', apiVersion: 'events.k8s.io/v1' },
  { path: '/api/v1/events', apiVersion: 'v1' },
];

export async function collectEvents(options: LoadKubeConfigOptions & ClientOptions = {}): Promise<{ events: K8sObject[]; errors: InputError[] }> {
  const client = makeClient(loadKubeConfig(options), options);
  const errors: InputError[] = [];
  const events: K8sObject[] = [];
  const seen = new Set<string>();
  const failures: string[] = [];
  try {
    for (const source of SOURCES) {
      try {
        let token: string | undefined;
        do {
          const page = (await client.get(source.path, { limit: '500', ...(token ? { continue: token } : {}) })) as { items?: K8sObject[]; metadata?: { continue?: string } };
          for (const item of page.items ?? []) {
            const uid = item.metadata?.uid ?? `${item.metadata?.namespace ?? ''}/${item.metadata?.name ?? ''}`;
            if (seen.has(uid)) continue;
            seen.add(uid);
            events.push({ ...item, apiVersion: source.apiVersion, kind: 'Event' });
          }
          token = page.metadata?.continue || undefined;
          if (events.length >= MAX_EVENTS && token) {
            errors.push({ source: source.path, message: `more than ${MAX_EVENTS} events; the warning summary covers the first ${events.length}` });
            return { events, errors };
          }
        } while (token);
      } catch (error) {
        // events.k8s.io is not served on very old clusters; either API may be forbidden.
        if (!(error instanceof ApiStatusError && error.status === 404)) failures.push(`${source.path}: ${describe(error)}`);
      }
    }
    if (failures.length === SOURCES.length) errors.push({ source: 'events', message: `listing events failed, the warning summary is left out: ${failures.join('; ')}` });
    return { events, errors };
  } finally {
    client.close();
  }
}
