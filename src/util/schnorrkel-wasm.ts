import { createRequire } from 'node:module'
import { inflateSync } from 'node:zlib'

/**
 * sr25519 verification through schnorrkel compiled to WebAssembly: the module that
 * `@polkadot/wasm-crypto` ships (in `@polkadot/wasm-crypto-wasm`), loaded here on its own.
 *
 * Why not `@polkadot/wasm-crypto` itself: its bridge imports the whole `@polkadot/util` barrel, and
 * with `@polkadot/util-crypto` and `@polkadot/keyring` beside it that kept about 8 MiB of V8 heap,
 * 2 MiB of wasm and module buffers and 2 MiB of ICU collation tables (`@polkadot/networks` sorts
 * with `localeCompare` when it loads) in every daemon, for a function the daemon calls once per new
 * signer certificate. Why not the pure-JS verifier (`@scure/sr25519`, which signs and derives for
 * the node): it is about 7x slower, and certificate checks are what a peer can make a node pay for.
 *
 * The package is pinned to one exact version in package.json: the exports called here
 * (`__wbindgen_malloc`, `ext_sr_verify`) are that build's wasm-bindgen ABI, and
 * `test/unit/util/sr25519.test.ts` checks its verdicts against the pure-JS verifier's.
 *
 * Only `ext_sr_verify` is called. It needs no randomness and no host objects; the host functions
 * the module imports (wasm-bindgen's, for random bytes in signing and key generation) are supplied
 * as functions that throw, so a call that would need one fails loudly instead of silently.
 */

/** the part of the global WebAssembly API used here (the project's TypeScript lib has no DOM types) */
interface WasmModule { readonly __brand: 'WebAssembly.Module' }
interface WasmMemory { readonly buffer: ArrayBuffer }
interface WasmApi {
  Module: (new (code: Uint8Array) => WasmModule) & { imports: (module: WasmModule) => Array<{ module: string, name: string, kind: string }> }
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> }
  Memory: new (descriptor: { initial: number }) => WasmMemory
}
const WASM = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

interface SchnorrkelExports {
  memory: WasmMemory
  __wbindgen_malloc: (size: number, align: number) => number
  /** signature, message, public key (pointer, length each): 1 when valid */
  ext_sr_verify: (sigPtr: number, sigLen: number, msgPtr: number, msgLen: number, pubPtr: number, pubLen: number) => number
}

const requireHere = createRequire(import.meta.url)

/** the module's imports: all wasm-bindgen glue for randomness, never reached by ext_sr_verify */
function hostImports (module: WasmModule): Record<string, Record<string, unknown>> {
  const wbg: Record<string, () => never> = {}
  for (const i of WASM.Module.imports(module)) {
    if (i.kind !== 'function') throw new Error(`schnorrkel wasm imports a ${i.kind} (${i.module}.${i.name})`)
    wbg[i.name] = () => { throw new Error(`schnorrkel wasm called ${i.name}, which this verifier does not provide`) }
  }
  return { wbg }
}

function load (): SchnorrkelExports | null {
  try {
    const packed = requireHere('@polkadot/wasm-crypto-wasm/cjs/bytes') as { bytes: string, lenOut: number }
    const code = inflateSync(Buffer.from(packed.bytes, 'base64'))
    if (code.length !== packed.lenOut) return null
    const module = new WASM.Module(code)
    const exports = new WASM.Instance(module, hostImports(module)).exports as Partial<SchnorrkelExports>
    if (!(exports.memory instanceof WASM.Memory) || typeof exports.__wbindgen_malloc !== 'function' || typeof exports.ext_sr_verify !== 'function') return null
    return exports as SchnorrkelExports
  } catch {
    return null
  }
}

let loaded: SchnorrkelExports | null | undefined

/** the module, compiled on first use (a few milliseconds); null where it cannot load */
function schnorrkel (): SchnorrkelExports | null {
  if (loaded === undefined) loaded = load()
  return loaded
}

/** whether the wasm verifier is available (`sr25519VerifyWasm` answers only then) */
export function schnorrkelWasmAvailable (): boolean {
  return schnorrkel() != null
}

/** copies `bytes` into the module's memory; the callee takes ownership (wasm-bindgen passes slices by value and frees them) */
function pass (w: SchnorrkelExports, bytes: Uint8Array): [number, number] {
  const ptr = w.__wbindgen_malloc(bytes.length, 1)
  // the view is made after malloc: a malloc that grows memory detaches the previous buffer
  new Uint8Array(w.memory.buffer, ptr, bytes.length).set(bytes)
  return [ptr, bytes.length]
}

/**
 * schnorrkel's verification of an sr25519 signature (64 bytes) on `message` by `publicKey` (32
 * bytes), in the signing context `substrate`; undefined where the module is not available.
 */
export function sr25519VerifyWasm (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean | undefined {
  const w = schnorrkel()
  if (w == null) return undefined
  return w.ext_sr_verify(...pass(w, signature), ...pass(w, message), ...pass(w, publicKey)) === 1
}
