// After `protons src/wire/*.proto` (npm run proto): absent bytes fields decode to the shared
// EMPTY_BYTES (src/wire/empty-bytes.ts) instead of a fresh alloc(0) per field per message.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const dir = new URL('../src/wire/', import.meta.url).pathname
const IMPORT = "import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'"
for (const name of readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'empty-bytes.ts')) {
  const file = join(dir, name)
  const text = readFileSync(file, 'utf8')
  if (!text.includes('uint8ArrayAlloc(0)')) continue
  let out = text.replaceAll('uint8ArrayAlloc(0)', 'EMPTY_BYTES')
  // the import goes only when nothing else of the file uses it
  out = out.replace(IMPORT, '').includes('uint8ArrayAlloc') ? out.replace(IMPORT, `${IMPORT}\nimport { EMPTY_BYTES } from './empty-bytes.js'`) : out.replace(IMPORT, "import { EMPTY_BYTES } from './empty-bytes.js'")
  writeFileSync(file, out)
  console.log(`proto-post: ${name}`)
}
