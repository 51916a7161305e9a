import type { RentEvent, RentJob } from '../node/roles/renter.js'
import { alpha } from './format.js'

/** What `bazaar devnet` and `bazaar rent` print: the renter's events and the devnet's own notes. */
export type RentStoryEvent = RentEvent | { type: 'devnet', message: string }

/** m:ss of a duration in ms */
export function elapsed (ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

/** Text a job wrote, as lines with a prefix (a chunk may end mid-line; it is printed as it came). */
function jobLines (text: string, prefix: string): string[] {
  const lines = text.replace(/\n$/, '').split('\n')
  return lines.map((l) => prefix + l)
}

/**
 * How a job ended, in the story's words: `exited, exit code 0`; `killed by SIGKILL` for a process a
 * signal ended (it has no exit code of its own); `timeout, killed by SIGTERM`; a failure's code in
 * brackets, `failed, exit code -1 (IMAGE_REQUIRED)`.
 */
export function jobEnd (j: Pick<RentJob, 'reason' | 'exitCode' | 'signal' | 'detail'>): string {
  const how = j.signal != null ? `killed by ${j.signal}` : `exit code ${j.exitCode}`
  return `${j.reason === 'exited' && j.signal != null ? how : `${j.reason}, ${how}`}${j.detail != null ? ` (${j.detail})` : ''}`
}

/**
 * Where each output asked for (`asked`) ended up, after the rental: its path; `not written by the
 * job` only when the supplier said so; `not delivered (<code>)` when it did not arrive, the session
 * having failed first (those received before the failure are in place all the same).
 */
export function outputLines (job: Pick<RentJob, 'reason' | 'detail' | 'outputs' | 'missingOutputs'>, asked: string[]): string[] {
  const lines = job.outputs.map((o) => `output ${o.name} → ${o.path ?? '(not written)'}`)
  for (const name of asked) {
    if (job.outputs.some((o) => o.name === name)) continue
    lines.push(job.missingOutputs.includes(name) ? `output ${name}: not written by the job` : `output ${name}: not delivered (${job.detail ?? job.reason})`)
  }
  return lines
}

/**
 * One event of a rental as readable lines. Amounts are shown in alpha (exact decimals of rao);
 * job output is prefixed `| ` (stdout) or `! ` (stderr).
 */
export function rentEventLine (e: RentStoryEvent): string[] {
  switch (e.type) {
    case 'devnet': return [`· ${e.message}`]
    case 'bid': return [`bid ${e.id} published`]
    case 'matched': return [`matched supplier ${e.supplier} (offer ${e.offer}) at ${alpha(e.pricePerGpuHour)} α/GPU-hour, tee ${e.teeKind}`]
    case 'refused': return [`supplier ${e.supplier} refused (${e.code}); trying the next offer`]
    case 'agreement': return [`agreement ${e.id} signed, budget ${alpha(e.budget)} α`]
    case 'escrow': return [`escrow ${e.id} opened: ${alpha(e.locked)} α locked (${e.asset}) in block #${e.blockNumber}`]
    case 'attested': {
      const lines = [`enclave ${e.enclave} attested: ${e.kind}, measurement ${e.measurement.slice(0, 16)}…`]
      if (e.kind === 'simulated') lines.push('WARNING: a SIMULATED enclave was accepted. This is allowed only on devnets; real networks refuse simulated evidence.')
      if (e.gpu != null) {
        lines.push(`${e.gpu.count > 1 ? `${e.gpu.count} GPUs attested, the first` : 'GPU attested'}: ${e.gpu.kind} ${e.gpu.model}, driver ${e.gpu.driverVersion ?? '?'}, VBIOS ${e.gpu.vbiosVersion ?? '?'}, CC ${e.gpu.ccMode}${e.gpu.measurementsMatched ? ', measurements match the RIMs' : ''}`)
        if (e.gpu.kind === 'simulated-gpu') lines.push('WARNING: a SIMULATED GPU was accepted: nothing protects GPU memory.')
      }
      return lines
    }
    case 'stdout': return jobLines(e.text, '  | ')
    case 'stderr': return jobLines(e.text, '  ! ')
    case 'tick': return [`  [${elapsed(e.elapsedMs)}] spent ${alpha(e.spent)} α`]
    case 'job': return [
      `job ended: ${jobEnd(e)}`,
      ...e.outputs.map((o) => `  output ${o.name} (${o.bytes} bytes) sha256 ${o.sha256}`),
      ...(e.undelivered ?? []).map((name) => `  output ${name} not delivered (${e.detail ?? e.reason})`)
    ]
    case 'settled':
      // an approval still waiting for the supplier's: what it will pay, not the zeros of an open escrow
      if (!e.executed) return [`close approved, not yet executed on chain: it pays the supplier ${alpha(e.approved ?? '0')} α (the last voucher) and refunds the rest once the supplier approves it too, or the supplier closes with the arbiter`]
      return [`settled: paid ${alpha(e.paid)} α to the supplier, refunded ${alpha(e.refunded)} α${e.carried != null ? ` (of the payment, ${alpha(e.carried)} α was too small to move as stake and came back with the refund)` : ''}`]
    default: return []
  }
}
