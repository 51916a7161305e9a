import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ControlApi, StreamResponse } from '../../../src/node/api/server.js'
import { silentLogger } from '../../../src/node/logger.js'
import { Registry } from '../../../src/node/metrics.js'

const TOKEN = 'a'.repeat(64)

describe('ObservedHistogram', () => {
  it('renders cumulative buckets, sum and count per label set', () => {
    const r = new Registry()
    const h = r.observedHistogram('x_seconds', 'help text', [0.01, 0.1])
    h.observe(0.005, { route: '/a' })
    h.observe(0.05, { route: '/a' })
    h.observe(0.5, { route: '/a' })
    h.observe(0.1, { route: '/b' })
    expect(r.render()).toBe([
      '# HELP x_seconds help text',
      '# TYPE x_seconds histogram',
      'x_seconds_bucket{route="/a",le="0.01"} 1',
      'x_seconds_bucket{route="/a",le="0.1"} 2',
      'x_seconds_bucket{route="/a",le="+Inf"} 3',
      'x_seconds_sum{route="/a"} 0.555',
      'x_seconds_count{route="/a"} 3',
      // a bound is inclusive, as Prometheus's `le` says
      'x_seconds_bucket{route="/b",le="0.01"} 0',
      'x_seconds_bucket{route="/b",le="0.1"} 1',
      'x_seconds_bucket{route="/b",le="+Inf"} 1',
      'x_seconds_sum{route="/b"} 0.1',
      'x_seconds_count{route="/b"} 1',
      ''
    ].join('\n'))
  })

  it('renders only its header before anything is observed, and a series without labels plainly', () => {
    const r = new Registry()
    const h = r.observedHistogram('y_seconds', 'h', [1])
    expect(r.render()).toBe('# HELP y_seconds h\n# TYPE y_seconds histogram\n')
    h.observe(2)
    expect(r.render()).toContain('y_seconds_bucket{le="+Inf"} 1\ny_seconds_sum 2\ny_seconds_count 1')
  })
})

describe('the control API observes the time each request spends in the daemon', () => {
  const metrics = new Registry()
  // a stopped clock: a handler moves it to say how long it took
  let clock = 0
  const api = new ControlApi({ host: '127.0.0.1', port: 0, token: TOKEN, logger: silentLogger, metrics, now: () => clock })
  let base = ''
  beforeAll(async () => {
    api.route('POST', '/v1/offers', async () => { clock += 30; return { ok: true } })
    api.route('DELETE', '/v1/offers/:id', async () => { clock += 2; return { ok: true } })
    api.route('GET', '/v1/stream', async () => new StreamResponse('application/x-ndjson', async (write) => { clock += 5000; write('{}\n') }))
    const a = await api.start()
    base = `http://${a.host}:${a.port}`
  })
  afterAll(async () => { await api.stop() })

  const call = async (method: string, route: string, token: string | null = TOKEN): Promise<number> => {
    const res = await fetch(base + route, { method, headers: token != null ? { authorization: `Bearer ${token}` } : {}, body: method === 'POST' ? '{}' : undefined })
    await res.text()
    return res.status
  }
  const line = (labels: string): number => {
    const m = metrics.render().split('\n').find((l) => l.startsWith(`bazaar_api_request_seconds${labels} `))
    return m == null ? Number.NaN : Number(m.split(' ')[1])
  }

  it('by route pattern, method and status, in the bucket of its duration', async () => {
    expect(await call('POST', '/v1/offers')).toBe(201)
    expect(await call('POST', '/v1/offers')).toBe(201)
    expect(await call('DELETE', '/v1/offers/some-id')).toBe(200)
    expect(await call('DELETE', '/v1/offers/another')).toBe(200)
    const post = '{method="POST",route="/v1/offers",status="201"'
    expect(line(`_bucket${post},le="0.025"}`)).toBe(0)
    expect(line(`_bucket${post},le="0.05"}`)).toBe(2)
    expect(line(`_count${post}}`)).toBe(2)
    expect(line(`_sum${post}}`)).toBeCloseTo(0.06, 9)
    // two paths, one pattern: ids never become label values
    const del = '{method="DELETE",route="/v1/offers/:id",status="200"'
    expect(line(`_bucket${del},le="0.001"}`)).toBe(0)
    expect(line(`_bucket${del},le="0.0025"}`)).toBe(2)
    expect(metrics.render()).not.toContain('some-id')
  })

  it('refusals too, under the route "none" where no route matched, and a stream until it starts', async () => {
    expect(await call('GET', '/v1/offers', null)).toBe(401)
    expect(await call('GET', '/v1/nothing/here')).toBe(404)
    expect(await call('GET', '/v1/stream')).toBe(200)
    expect(line('_count{method="GET",route="none",status="401"}')).toBe(1)
    expect(line('_count{method="GET",route="none",status="404"}')).toBe(1)
    expect(metrics.render()).not.toContain('/v1/nothing')
    // observed when the stream starts: the 5 s the stream then ran are not in it
    expect(line('_bucket{method="GET",route="/v1/stream",status="200",le="0.001"}')).toBe(1)
  })
})
