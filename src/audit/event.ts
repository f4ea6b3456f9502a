// The Kubernetes audit event (audit.k8s.io/v1 Event) and the managed-cluster wrappers it arrives
// in: GKE Cloud Logging entries (protoPayload), AKS diagnostic logs (properties.log), EKS CloudWatch
// exports (a timestamp before the JSON, or logEvents/events with the JSON in `message`), EventList
// bodies from the audit webhook, and audit.k8s.io/v1beta1. Everything becomes the v1 shape below.

export interface AuditObjectRef {
  resource?: string;
  namespace?: string;
  name?: string;
  apiGroup?: string;
  apiVersion?: string;
  subresource?: string;
  uid?: string;
}

export interface AuditUser {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface AuditEvent {
  kind?: string;
  apiVersion?: string;
  level?: string;
  auditID?: string;
  stage?: string;
  requestURI?: string;
  verb?: string;
  user?: AuditUser;
  impersonatedUser?: AuditUser;
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: AuditObjectRef;
  responseStatus?: { code?: number; status?: string; reason?: string; message?: string };
  requestObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
  /** v1beta1 only. */
  timestamp?: string;
  annotations?: Record<string, string>;
}

export const AUDIT_API_VERSIONS = new Set(['audit.k8s.io/v1', 'audit.k8s.io/v1beta1']);

/** What one parsed line turned out to be. */
export type Unwrapped =
  | { events: AuditEvent[] }
  | { unsupported: string };

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The time an event happened: when the request was received, else the stage time. */
export function eventTime(event: AuditEvent): string | undefined {
  return event.requestReceivedTimestamp ?? event.stageTimestamp ?? event.timestamp;
}

export function username(event: AuditEvent): string {
  return event.user?.username ?? '(unknown)';
}

/** RBAC-style resource name: "pods", "pods/exec", or the request path for non-resource requests. */
export function resourceKey(event: AuditEvent): string {
  const ref = event.objectRef;
  if (!ref?.resource) return event.requestURI ? nonResourcePath(event.requestURI) : '(none)';
  return ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource;
}

function nonResourcePath(uri: string): string {
  const query = uri.indexOf('?');
  return query < 0 ? uri : uri.slice(0, query);
}

/**
 * Turns one parsed JSON value into audit events. Native events pass through untouched (the fast
 * path); wrappers are unwrapped; anything else is reported as unsupported with a short reason.
 */
export function unwrap(value: unknown): Unwrapped {
  if (!isObject(value)) return Array.isArray(value) ? unwrapList(value) : { unsupported: 'not a JSON object' };
  const kind = value.kind;
  if (kind === 'Event') {
    const apiVersion = value.apiVersion;
    if (typeof apiVersion === 'string' && !AUDIT_API_VERSIONS.has(apiVersion)) return { unsupported: `apiVersion ${apiVersion} is not an audit event version (audit.k8s.io/v1 or v1beta1)` };
    return { events: [value as AuditEvent] };
  }
  if (kind === 'EventList' && Array.isArray(value.items)) return unwrapList(value.items);
  if (isObject(value.protoPayload)) return fromGke(value);
  if (isObject(value.properties) && 'log' in value.properties) return fromAks(value.properties.log);
  if (Array.isArray(value.logEvents)) return unwrapMessages(value.logEvents);
  if (Array.isArray(value.events)) return unwrapMessages(value.events);
  if (typeof value.message === 'string') return unwrapMessages([value]);
  if (typeof value.log === 'string' || isObject(value.log)) return fromAks(value.log);
  return { unsupported: typeof kind === 'string' ? `kind ${kind} is not an audit Event` : 'not an audit event (no kind: Event)' };
}

function unwrapList(items: unknown[]): Unwrapped {
  const events: AuditEvent[] = [];
  let unsupported: string | undefined;
  for (const item of items) {
    const result = unwrap(item);
    if ('events' in result) events.push(...result.events);
    else unsupported ??= result.unsupported;
  }
  return events.length || !unsupported ? { events } : { unsupported };
}

/** CloudWatch: { timestamp, message: "<event JSON>" } records (subscription, export or filter-log-events). */
function unwrapMessages(records: unknown[]): Unwrapped {
  return unwrapList(records.map((record) => {
    const message = isObject(record) ? record.message : undefined;
    if (typeof message !== 'string') return record;
    try {
      return JSON.parse(message) as unknown;
    } catch {
      return undefined;
    }
  }));
}

/** AKS diagnostic logs: properties.log holds the event, as an object or as a JSON string. */
function fromAks(log: unknown): Unwrapped {
  if (typeof log === 'string') {
    try {
      return unwrap(JSON.parse(log));
    } catch {
      return { unsupported: 'properties.log is not JSON' };
    }
  }
  return unwrap(log);
}

// GKE reports google.rpc status codes; these are the HTTP codes the API server answered with.
const GRPC_TO_HTTP: Record<number, number> = { 0: 200, 3: 400, 5: 404, 6: 409, 7: 403, 9: 400, 10: 409, 16: 401, 8: 429, 13: 500, 14: 503 };
const GKE_VERBS = new Set(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection']);

/**
 * GKE Cloud Logging: protoPayload is a google.cloud.audit.AuditLog whose methodName is
 * "io.k8s.<group>.<version>.<resource>[.<subresource>].<verb>" and resourceName is the request path
 * without /api(s)/ ("core/v1/namespaces/ns/pods/name/exec").
 */
function fromGke(entry: Json): Unwrapped {
  const payload = entry.protoPayload as Json;
  const method = typeof payload.methodName === 'string' ? payload.methodName : '';
  if (!method.startsWith('io.k8s.')) return { unsupported: `protoPayload.methodName ${method || '(none)'} is not a Kubernetes API method` };
  const parts = method.split('.');
  const verbPart = parts[parts.length - 1];
  const verb = GKE_VERBS.has(verbPart) ? verbPart : verbPart === 'connect' ? 'create' : verbPart;
  const auth = isObject(payload.authenticationInfo) ? payload.authenticationInfo : {};
  const meta = isObject(payload.requestMetadata) ? payload.requestMetadata : {};
  const status = isObject(payload.status) ? payload.status : {};
  const grpc = typeof status.code === 'number' ? status.code : 0;
  const resourceName = typeof payload.resourceName === 'string' ? payload.resourceName : '';
  const objectRef = gkeObjectRef(resourceName);
  const timestamp = typeof entry.timestamp === 'string' ? entry.timestamp : undefined;
  const event: AuditEvent = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    auditID: typeof entry.insertId === 'string' ? entry.insertId : undefined,
    stage: 'ResponseComplete',
    verb,
    requestURI: resourceName ? `/${resourceName}` : undefined,
    user: { username: typeof auth.principalEmail === 'string' ? auth.principalEmail : undefined },
    sourceIPs: typeof meta.callerIp === 'string' ? [meta.callerIp] : undefined,
    userAgent: typeof meta.callerSuppliedUserAgent === 'string' ? meta.callerSuppliedUserAgent : undefined,
    objectRef,
    responseStatus: { code: GRPC_TO_HTTP[grpc] ?? 500, message: typeof status.message === 'string' ? status.message : undefined },
    requestObject: payload.request,
    responseObject: payload.response,
    requestReceivedTimestamp: timestamp,
    stageTimestamp: timestamp,
  };
  return { events: [event] };
}

function gkeObjectRef(resourceName: string): AuditObjectRef | undefined {
  const segments = resourceName.split('/').filter(Boolean);
  if (segments.length < 3) return undefined;
  const [group, version, ...rest] = segments;
  const ref: AuditObjectRef = { apiGroup: group === 'core' ? '' : group, apiVersion: version };
  let i = 0;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    ref.namespace = rest[1];
    i = 2;
  }
  ref.resource = rest[i];
  if (rest[i + 1]) ref.name = rest[i + 1];
  if (rest[i + 2]) ref.subresource = rest[i + 2];
  if (!ref.resource) return undefined;
  // "namespaces/<ns>" alone is the Namespace object itself.
  if (ref.namespace && !rest[2]) return { ...ref, resource: 'namespaces', name: ref.namespace, namespace: undefined };
  return ref;
}

// Kinds of the resources audit rules talk about; others are derived from the plural name.
const KIND_OF: Record<string, string> = {
  pods: 'Pod', secrets: 'Secret', configmaps: 'ConfigMap', services: 'Service', namespaces: 'Namespace', nodes: 'Node',
  serviceaccounts: 'ServiceAccount', deployments: 'Deployment', daemonsets: 'DaemonSet', statefulsets: 'StatefulSet',
  replicasets: 'ReplicaSet', jobs: 'Job', cronjobs: 'CronJob', ingresses: 'Ingress', roles: 'Role', rolebindings: 'RoleBinding',
  clusterroles: 'ClusterRole', clusterrolebindings: 'ClusterRoleBinding', certificatesigningrequests: 'CertificateSigningRequest',
  networkpolicies: 'NetworkPolicy', persistentvolumes: 'PersistentVolume', persistentvolumeclaims: 'PersistentVolumeClaim',
  endpoints: 'Endpoints', events: 'Event', leases: 'Lease', tokenreviews: 'TokenReview', subjectaccessreviews: 'SubjectAccessReview',
  selfsubjectaccessreviews: 'SelfSubjectAccessReview', selfsubjectrulesreviews: 'SelfSubjectRulesReview',
  mutatingwebhookconfigurations: 'MutatingWebhookConfiguration', validatingwebhookconfigurations: 'ValidatingWebhookConfiguration',
  customresourcedefinitions: 'CustomResourceDefinition',
};

export function kindOfResource(resource: string): string {
  const known = KIND_OF[resource];
  if (known) return known;
  const singular = resource.endsWith('ies') ? resource.slice(0, -3) + 'y' : resource.endsWith('ses') ? resource.slice(0, -2) : resource.replace(/s$/, '');
  return singular.charAt(0).toUpperCase() + singular.slice(1);
}
