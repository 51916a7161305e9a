import { YamuxStream, StreamState } from '@chainsafe/libp2p-yamux/stream'

/**
 * Yamux window updates sent when half the receive window is used, not after every data frame.
 *
 * `@chainsafe/libp2p-yamux` 8.0.1 answers every data frame it reads with a WindowUpdate frame as
 * soon as any of the window was used: each gossip frame a node receives costs it a frame sent back
 * (noise encryption and a socket write) and costs the sender a frame to read and decrypt. The other
 * implementations (hashicorp/yamux, go-yamux, rust-yamux) send an update only once at least half
 * of the receive window has been consumed, and so does a node with this installed: the sender
 * still always holds at least half a window, and the window's auto-tuning (doubling when a window
 * is used within four round trips) runs, as in go-yamux, when an update is sent.
 *
 * Measured (`npm run bench:gossip -- --skip-propagation --runs 2 --validator 0`, the quiet 2-core
 * machine): a flooded market node validated 4,961 and 5,044 messages/s against 4,078 to 4,610
 * before, and spent 0.28 to 0.29 ms of CPU per message against 0.32 to 0.34; plain gossipsub went
 * from about 10,000 to 12,100 and 12,500 messages/s.
 *
 * The stream's window fields are private in the package's types, so the dependency is pinned to
 * an exact version, and a stream whose fields are not what this expects is left to the original
 * method: nothing is skipped unless the window arithmetic can be read.
 * `test/unit/node/yamux-window.test.ts` checks both the fewer frames and a bulk transfer.
 */

interface WindowFields { state: StreamState, recvWindow: number, recvWindowCapacity: number }

let installed = false

/** Installs the half-window rule on yamux streams (process-wide, once). */
export function installYamuxWindowRule (): void {
  if (installed) return
  installed = true
  const proto = YamuxStream.prototype as unknown as { sendWindowUpdate: (this: WindowFields) => void }
  const original = proto.sendWindowUpdate
  proto.sendWindowUpdate = function (this: WindowFields): void {
    // SYN and ACK flags ride on window updates (the Init and SYNReceived states), and a paused
    // stream has its own handling: only an established stream with under half its window used waits
    if (this.state === StreamState.Established && typeof this.recvWindow === 'number' && typeof this.recvWindowCapacity === 'number' &&
      this.recvWindow - this.recvWindowCapacity < this.recvWindow / 2) return
    original.call(this)
  }
}

/** whether `installYamuxWindowRule` ran in this process */
export function yamuxWindowRuleInstalled (): boolean { return installed }
