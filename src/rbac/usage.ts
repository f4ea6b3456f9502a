// What principals actually did, from audit events: distinct requests per user with counts and
// first/last times, and the groups each user was seen with. Least-privilege generation and
// "was this risky permission used?" both read it. Fed one event at a time (the streaming reader).
import type { AuditEvent } from '../audit/event.js';
import { eventTime } from '../audit/event.js';
import type { AccessRequest } from './model.js';

export interface UsedRequest extends AccessRequest {
  count: number;
  first?: string;
  last?: string;
}

export interface PrincipalUsage {
  username: string;
  groups: Set<string>;
  /** Distinct authorised requests by verb, group, resource, subresource, namespace and name. */
  requests: Map<string, UsedRequest>;
  /** Requests the API server denied (401/403): needs it does not have, never added to a role. */
  denied: number;
  /** The distinct denied requests (the first MAX_DENIED), to show what was refused. */
  deniedRequests: Map<string, UsedRequest>;
}

const MAX_DENIED = 100;

const DENIED = new Set([401, 403]);

export class UsageLog {
  readonly principals = new Map<string, PrincipalUsage>();
  events = 0;
  private readonly seen = new Set<string>();

  /** Keep only these user names (undefined: everyone). */
  constructor(private readonly filter?: (username: string) => boolean) {}

  add(event: AuditEvent): void {
    const username = event.user?.username;
    if (!username || !event.verb || (this.filter && !this.filter(username))) return;
    // The same request is logged once per stage (RequestReceived, ResponseStarted, ResponseComplete).
    if (event.auditID) {
      if (this.seen.has(event.auditID)) return;
      this.seen.add(event.auditID);
    }
    this.events++;
    let principal = this.principals.get(username);
    if (!principal) this.principals.set(username, (principal = { username, groups: new Set(), requests: new Map(), denied: 0, deniedRequests: new Map() }));
    for (const group of event.user?.groups ?? []) principal.groups.add(group);
    const denied = (event.responseStatus?.code !== undefined && DENIED.has(event.responseStatus.code)) || event.annotations?.['authorization.k8s.io/decision'] === 'forbid';
    if (denied) principal.denied++;
    const request = requestOf(event);
    if (!request) return;
    const key = [request.verb, request.group, request.resource, request.subresource ?? '', request.namespace ?? '', request.name ?? ''].join('\u0000');
    const target = denied ? principal.deniedRequests : principal.requests;
    const time = eventTime(event);
    const existing = target.get(key);
    if (existing) {
      existing.count++;
      if (time && (!existing.first || time < existing.first)) existing.first = time;
      if (time && (!existing.last || time > existing.last)) existing.last = time;
    } else if (!denied || target.size < MAX_DENIED) target.set(key, { ...request, count: 1, ...(time ? { first: time, last: time } : {}) });
  }
}

/** The RBAC request an audit event stands for (the verb as RBAC sees it), or undefined. */
export function requestOf(event: AuditEvent): AccessRequest | undefined {
  const ref = event.objectRef;
  if (!ref?.resource) {
    if (!event.requestURI) return undefined;
    const query = event.requestURI.indexOf('?');
    return { verb: event.verb!, group: '', resource: query < 0 ? event.requestURI : event.requestURI.slice(0, query) };
  }
  return {
    verb: event.verb!,
    group: ref.apiGroup ?? '',
    resource: ref.resource,
    ...(ref.subresource ? { subresource: ref.subresource } : {}),
    ...(ref.namespace ? { namespace: ref.namespace } : {}),
    ...(ref.name ? { name: ref.name } : {}),
  };
}
