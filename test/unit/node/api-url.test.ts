import { describe, expect, it } from 'vitest'
import { apiUrl, hostPort } from '../../../src/node/api/url.js'
import { apiListenError } from '../../../src/node/startup-errors.js'

describe('the control API address as a URL', () => {
  it.each([
    { host: '127.0.0.1', port: 27000, authority: '127.0.0.1:27000' },
    { host: 'localhost', port: 27000, authority: 'localhost:27000' },
    { host: '::1', port: 27000, authority: '[::1]:27000' },
    { host: '::ffff:127.0.0.1', port: 80, authority: '[::ffff:127.0.0.1]:80' }
  ])('$host port $port → $authority', ({ host, port, authority }) => {
    expect(hostPort(host, port)).toBe(authority)
    expect(apiUrl(host, port)).toBe(`http://${authority}`)
  })

  it('an IPv6 host gives a URL that parses back to its host and port', () => {
    const u = new URL(apiUrl('::1', 27001))
    expect([u.hostname, u.port]).toEqual(['[::1]', '27001'])
  })
})

describe('an API address in use, on IPv6', () => {
  it('names it, and the --api value to change, as --api takes them', () => {
    const err = apiListenError(Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }), '::1', 27000)
    expect(err.message).toContain('address [::1]:27000 is in use')
    expect(err.message).toContain('--api [::1]:<port>')
  })
})
