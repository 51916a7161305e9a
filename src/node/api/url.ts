import { isIPv6 } from 'node:net'

/**
 * `host:port` as a URL authority and as `--api` takes it: an IPv6 address in brackets
 * (RFC 3986 §3.2.2), since its own colons would otherwise run into the port's.
 */
export function hostPort (host: string, port: number | string): string {
  return `${isIPv6(host) ? `[${host}]` : host}:${port}`
}

/** The base URL of a control API listening on `host:port`, as `<home>/api.json` holds it. */
export function apiUrl (host: string, port: number): string {
  return `http://${hostPort(host, port)}`
}
