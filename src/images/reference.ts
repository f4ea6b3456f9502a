// Image references as Kubernetes and registries write them: [registry/]repository[:tag][@digest],
// normalized the way docker does (busybox → docker.io/library/busybox:latest) so the same image
// written two ways is one image.

export interface ImageReference {
  /** As written in the pod spec or report. */
  raw: string;
  registry: string;
  /** Path within the registry, e.g. library/redis. */
  repository: string;
  tag?: string;
  /** Manifest digest, sha256:<hex>, when pinned. */
  digest?: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function parseImageReference(raw: string): ImageReference {
  let rest = raw.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const candidate = rest.slice(at + 1);
    if (DIGEST.test(candidate)) digest = candidate;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  let registry = 'docker.io';
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) registry = parts.shift()!;
  if (registry === 'index.docker.io') registry = 'docker.io';
  let repository = parts.join('/');
  if (registry === 'docker.io' && parts.length === 1) repository = `library/${repository}`;
  if (!tag && !digest) tag = 'latest';
  return { raw, registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** registry/repository: the key that ties tags and digests of one repository together. */
export function repositoryKey(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The shortest familiar spelling: redis:7.2.4 rather than docker.io/library/redis:7.2.4. */
export function displayName(ref: ImageReference): string {
  let name = ref.registry === 'docker.io' ? ref.repository.replace(/^library\//, '') : `${ref.registry}/${ref.repository}`;
  if (ref.tag) name += `:${ref.tag}`;
  return name;
}

export interface ImageIdentity {
  /** Manifest (repo) digest, sha256:<hex>: what registries and `image@digest` references use. */
  digest?: string;
  /** Image id (config digest) when the runtime reported only that. */
  imageId?: string;
}

/**
 * What the kubelet reports in containerStatuses[].imageID: docker-pullable://repo@sha256:…
 * (dockershim), repo@sha256:… (containerd, CRI-O), or a bare sha256:… image id; docker://sha256:…
 * is an image id too. Only a digest after "@" is a manifest digest.
 */
export function parseImageId(imageId: string | undefined): ImageIdentity {
  if (!imageId) return {};
  const value = imageId.replace(/^[a-z-]+:\/\//, '');
  const at = value.lastIndexOf('@');
  if (at >= 0) {
    const digest = value.slice(at + 1);
    return DIGEST.test(digest) ? { digest } : {};
  }
  return DIGEST.test(value) ? { imageId: value } : {};
}

/** "alpine@sha256:…" entries of trivy's Metadata.RepoDigests → their digests. */
export function digestOf(repoDigest: string): string | undefined {
  const at = repoDigest.lastIndexOf('@');
  const digest = at >= 0 ? repoDigest.slice(at + 1) : repoDigest;
  return DIGEST.test(digest) ? digest : undefined;
}

export function shortDigest(digest: string | undefined): string {
  return digest ? digest.replace(/^sha256:/, '').slice(0, 12) : '';
}

/** Orders tags so the newest release sorts last: 1.10.0 after 1.9.2, v2.51.0 after v2.6. */
export function compareTags(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
