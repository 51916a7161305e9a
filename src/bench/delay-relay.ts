import { connect, createServer, type Socket } from 'node:net'

/**
 * A TCP relay in front of one node's listener (the benches' `--latency MS`) that holds every
 * chunk MS milliseconds in each direction, in order (timers of one duration fire in the order they
 * were set). A link dialled through it has a round trip of twice MS, as between machines;
 * bandwidth and loss are not emulated. The development machine's kernel has no netem, so the delay
 * is the bench's own, the same for everything one run compares.
 */
export async function delayRelay (targetPort: number, delayMs: number): Promise<{ port: number, close: () => void }> {
  const sockets = new Set<Socket>()
  const later = (f: () => void): void => { setTimeout(f, delayMs) }
  const forward = (from: Socket, to: Socket): void => {
    from.on('data', (chunk: Buffer) => { later(() => { if (!to.destroyed) to.write(chunk) }) })
    from.on('end', () => { later(() => { to.end() }) })
    from.on('close', () => { later(() => { to.destroy() }) })
    from.on('error', () => {})
  }
  const server = createServer((inbound) => {
    const outbound = connect(targetPort, '127.0.0.1')
    for (const s of [inbound, outbound]) {
      s.setNoDelay(true)
      sockets.add(s)
      s.on('close', () => { sockets.delete(s) })
    }
    forward(inbound, outbound)
    forward(outbound, inbound)
  })
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  return {
    port: (server.address() as { port: number }).port,
    close: () => { server.close(); for (const s of sockets) s.destroy() }
  }
}
