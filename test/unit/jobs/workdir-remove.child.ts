// Run by workdir.test.ts as a user that file permissions bind (root is not stopped by mode 000):
// builds the tree a job left with `chmod 000` on a directory, removes it with removeJobDir, and
// prints what happened as JSON.
import { existsSync } from 'node:fs'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { removeJobDir } from '../../../src/jobs/workdir.js'

const dir = process.argv[2]
await mkdir(path.join(dir, 'keep', 'sub'), { recursive: true })
await writeFile(path.join(dir, 'keep', 'sub', 'blob'), 'data')
await chmod(path.join(dir, 'keep'), 0)
const error = await removeJobDir(dir).then(() => null, (err: { code?: string }) => err.code ?? 'unknown')
process.stdout.write(JSON.stringify({ error, left: existsSync(dir) }))
