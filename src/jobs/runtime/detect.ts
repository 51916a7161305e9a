import { execFile } from 'node:child_process'

/**
 * Runs a command to see whether it works: true when it exits 0 within `timeoutMs`. Used to detect
 * optional tools (prlimit, a container engine). Output is bounded and discarded.
 */
export type CommandProbe = (file: string, args: string[], timeoutMs: number) => Promise<boolean>

export const systemProbe: CommandProbe = async (file, args, timeoutMs) => {
  return await new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 256 * 1024, windowsHide: true }, (err) => {
      resolve(err == null)
    })
  })
}
