// Lets a child `node` process run the TypeScript sources directly (Node 24 strips the types): a
// relative import of `x.js` resolves to `x.ts` when only the TypeScript file exists, as tsc does.
import { registerHooks } from 'node:module'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

registerHooks({
  resolve (specifier, context, nextResolve) {
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.startsWith('file:')) {
      const url = new URL(specifier, context.parentURL)
      if (!existsSync(fileURLToPath(url))) {
        const ts = new URL(url.href.slice(0, -3) + '.ts')
        if (existsSync(fileURLToPath(ts))) return nextResolve(ts.href, context)
      }
    }
    return nextResolve(specifier, context)
  }
})
