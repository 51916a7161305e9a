import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/**
 * A websocket JSON-RPC server of a few lines (RFC 6455: the handshake, masked client text frames
 * of up to 64 KiB, unmasked answers): `answer` gives each method's result, and a method it returns
 * undefined for gets an error. Enough for a `WsProvider` that asks a node for a block hash; no
 * subscriptions, no fragments.
 */
export async function rpcServer (answer: (method: string, params: unknown[]) => unknown): Promise<{ url: string, asked: string[], close: () => Promise<void> }> {
  const asked: string[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer()
  server.on('upgrade', (req, socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => { sockets.delete(socket) })
    socket.on('error', () => {})
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`)
    let buf = Buffer.alloc(0)
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      for (;;) {
        if (buf.length < 2) return
        const opcode = buf[0]! & 0x0f
        let len = buf[1]! & 0x7f
        let at = 2
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); at = 4 } else if (len === 127) { socket.destroy(); return }
        if (buf.length < at + 4 + len) return
        const mask = buf.subarray(at, at + 4)
        const body = Buffer.from(buf.subarray(at + 4, at + 4 + len).map((b, i) => b ^ mask[i % 4]!))
        buf = buf.subarray(at + 4 + len)
        if (opcode === 0x8) { socket.end(); return }
        if (opcode !== 0x1) continue
        const req = JSON.parse(body.toString('utf8')) as { id: number, method: string, params: unknown[] }
        asked.push(req.method)
        const result = answer(req.method, req.params)
        const reply = Buffer.from(JSON.stringify(result === undefined
          ? { jsonrpc: '2.0', id: req.id, error: { code: -32601, message: 'Method not found' } }
          : { jsonrpc: '2.0', id: req.id, result }))
        const head = reply.length < 126 ? Buffer.from([0x81, reply.length]) : Buffer.from([0x81, 126, reply.length >> 8, reply.length & 0xff])
        socket.write(Buffer.concat([head, reply]))
      }
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    asked,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}
