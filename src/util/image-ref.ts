/**
 * The container image grammar every layer shares: a job spec's image (jobs), the supplier's
 * `jobs.images` (node config), and the runtime and images an offer states and a bid asks for
 * (market matching). One copy, so a pattern the config accepts is one an offer may carry and an
 * image a job may name is one a bid may carry.
 */

/**
 * podman's (containers/image) transports: `oci:dir`, `docker-archive:/file.tar` and the like load
 * an image from the engine's host, whatever its pull policy, so a job's image never starts with one
 */
const TRANSPORT_RE = /^(?:docker|docker-archive|docker-daemon|oci|oci-archive|dir|containers-storage|ostree|sif|tarball):/
const DOMAIN_RE = /^(?:localhost|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]{1,5})?$/
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}$/
/** the characters of an image reference's prefix */
const IMAGE_PREFIX_RE = /^[a-z0-9][A-Za-z0-9._\-/:@+]{0,510}$/

/**
 * Whether `ref` is an image reference in the registry grammar docker and podman share:
 * `[domain[:port]/]path[:tag][@digest]`, lowercase path components. Nothing else: no transport
 * (`oci:…`, `docker-archive:/…`), no URL scheme, nothing starting with a dash.
 */
export function isImageReference (ref: string): boolean {
  if (TRANSPORT_RE.test(ref) || ref.includes('://')) return false
  let rest = ref
  const at = rest.indexOf('@')
  if (at >= 0) {
    if (!DIGEST_RE.test(rest.slice(at + 1))) return false
    rest = rest.slice(0, at)
  }
  const colon = rest.lastIndexOf(':')
  if (colon > rest.lastIndexOf('/')) {
    if (!TAG_RE.test(rest.slice(colon + 1))) return false
    rest = rest.slice(0, colon)
  }
  const parts = rest.split('/')
  // a first component with a dot, a port or `localhost` is the registry, as docker reads it
  const domain = parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!) ? parts.shift()! : undefined
  if (domain != null && !DOMAIN_RE.test(domain)) return false
  return parts.length > 0 && parts.every((p) => PATH_COMPONENT_RE.test(p))
}

/**
 * Whether `pattern` is what `jobs.images` and an offer's `images` accept: an image reference
 * (`isImageReference`), or a prefix of one ending in `*` (one star, only at the end).
 */
export function isImagePattern (pattern: string): boolean {
  if (!pattern.endsWith('*')) return isImageReference(pattern)
  const prefix = pattern.slice(0, -1)
  return IMAGE_PREFIX_RE.test(prefix) && !prefix.includes('*') && isImageReference(prefix.replace(/[:/@]$/, '') || 'x')
}

/**
 * Whether a job's `image` is one of `allowed` (patterns as `isImagePattern` accepts): equal to an
 * exact one, or starting with a prefix one's text before its `*`. Compared as written, byte for
 * byte (`pytorch/pytorch` and `docker.io/pytorch/pytorch` are different names here). An empty
 * list allows every image.
 */
export function imageAllowed (image: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true
  for (let i = 0; i < allowed.length; i++) {
    const a = allowed[i]
    if (a.endsWith('*') ? image.startsWith(a.slice(0, -1)) : image === a) return true
  }
  return false
}
