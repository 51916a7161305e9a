/**
 * Standard output and error as the CLI writes them. A reader that stops early (`bazaar status |
 * head -1`) closes the pipe; Node then emits EPIPE as an 'error' event on the stream, and with no
 * listener that ends the process with a stack. The CLI treats a closed stream as a reader that has
 * read enough: further lines to it are dropped and the command finishes normally (a daemon keeps
 * running and still closes cleanly on SIGTERM).
 */
const closed = new WeakSet<NodeJS.WriteStream>()
let installed = false

/** Installs the 'error' listeners on process.stdout and process.stderr, once per process. */
export function guardStdio (): void {
  if (installed) return
  installed = true
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', () => {
      // EPIPE, or any other write error of a terminal or pipe that went away: nothing can be
      // written there any more, and there is nobody to tell
      closed.add(s)
    })
  }
}

/** Writes one line to `stream` unless it has been closed by its reader. */
export function writeLine (stream: NodeJS.WriteStream, line: string): void {
  if (closed.has(stream) || stream.destroyed) return
  stream.write(line + '\n')
}
