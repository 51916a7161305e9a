/**
 * Writes btcli wallets in the byte layout of `bittensor-wallet` (opentensor/btwallet keyfile.rs,
 * keypair.rs, wallet.rs), written here from the format facts and independently of
 * `src/node/wallet`, so that the reader is checked against a second implementation:
 *
 * - keypair JSON: `accountId`, `publicKey` (0x hex), `privateKey` (schnorrkel's raw 64 bytes: the
 *   scalar and the nonce), `secretPhrase`, `secretSeed` (32-byte mini secret), `ss58Address`, and
 *   in btwallet 4.1 `"cryptoType": 1`. The Rust writer is compact serde_json; the Python one
 *   `json.dumps` with `", "` and `": "`.
 * - NaCl: `$NACL` || nonce (24) || crypto_secretbox_easy(json, nonce, argon2i13(password, NACL_SALT,
 *   OPSLIMIT_SENSITIVE, MEMLIMIT_SENSITIVE)).
 * - ansible-vault 1.1 AES256 (legacy), plain JSON.
 * - the password variable: BT_PW_<path with / and . as _, upper case> = base64(password XOR name).
 */
import { createCipheriv, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto'
import { mkdir, readFile, readdir, stat, writeFile, chmod } from 'node:fs/promises'
import path from 'node:path'
import sodium from 'libsodium-wrappers-sumo'
import { u8aToHex } from '@polkadot/util'
import { cryptoWaitReady, encodeAddress, mnemonicToMiniSecret, sr25519PairFromSeed } from '@polkadot/util-crypto'

/** `b"\x13q\x83\xdf\xf1Z\t\xbc\x9c\x90\xb5Q\x879\xe9\xb1"` spelled out from the Python literal */
const NACL_SALT = Buffer.concat([
  Buffer.from([0x13]), Buffer.from('q', 'latin1'), Buffer.from([0x83, 0xdf, 0xf1]), Buffer.from('Z', 'latin1'),
  Buffer.from([0x09, 0xbc, 0x9c, 0x90, 0xb5]), Buffer.from('Q', 'latin1'), Buffer.from([0x87]), Buffer.from('9', 'latin1'),
  Buffer.from([0xe9, 0xb1])
])

export const SENSITIVE = { opslimit: 8, memlimit: 512 * 1024 * 1024 }
/** cheap limits for the error-path tests (files then open only with these, never with btcli) */
export const FAST = { opslimit: 3, memlimit: 8 * 1024 * 1024 }

export interface TestKey {
  mnemonic?: string
  seed: Uint8Array
  publicKey: Uint8Array
  /** schnorrkel raw form */
  privateKey: Uint8Array
  ss58: string
}

/** A key from a BIP-39 phrase as btwallet's `create_from_mnemonic` makes it. */
export async function keyFromMnemonic (mnemonic: string): Promise<TestKey> {
  await cryptoWaitReady()
  const seed = mnemonicToMiniSecret(mnemonic)
  const pair = sr25519PairFromSeed(seed)
  return { mnemonic, seed, publicKey: pair.publicKey, privateKey: toSchnorrkelRaw(pair.secretKey), ss58: encodeAddress(pair.publicKey, 42) }
}

/**
 * polkadot-js keeps the secret scalar times 8; schnorrkel's raw form keeps the scalar
 * (`divide_scalar_bytes_by_cofactor`: shift the little-endian bytes right by 3 bits).
 */
function toSchnorrkelRaw (secretKey: Uint8Array): Uint8Array {
  const out = Uint8Array.from(secretKey)
  let low = 0
  for (let i = 31; i >= 0; i--) {
    const r = out[i] & 0b111
    out[i] = ((out[i] >> 3) + low) & 0xff
    low = (r << 5) & 0xff
  }
  return out
}

export type JsonStyle = 'rust-4.0' | 'rust-4.1' | 'python'

/** The keypair JSON of a key; `publicOnly` for coldkeypub.txt. */
export function keypairJson (k: TestKey, opts: { style?: JsonStyle, publicOnly?: boolean, ss58Override?: string } = {}): string {
  const style = opts.style ?? 'rust-4.1'
  const pub = u8aToHex(k.publicKey)
  const o: Record<string, string | number> = { accountId: pub, publicKey: pub }
  if (opts.publicOnly !== true) {
    o.privateKey = u8aToHex(k.privateKey)
    if (k.mnemonic != null) o.secretPhrase = k.mnemonic
    o.secretSeed = u8aToHex(k.seed)
  }
  o.ss58Address = opts.ss58Override ?? k.ss58
  if (style === 'rust-4.1') o.cryptoType = 1
  if (style === 'python') return JSON.stringify(o).replaceAll('","', '", "').replaceAll('":"', '": "')
  return JSON.stringify(o)
}

const keyCache = new Map<string, Uint8Array>()
/** argon2i13 key of a password (cached per password and limits: the salt is fixed). */
export async function naclKey (password: string, limits = SENSITIVE): Promise<Uint8Array> {
  await sodium.ready
  const id = `${limits.opslimit}/${limits.memlimit}/${password}`
  let k = keyCache.get(id)
  if (k == null) {
    k = sodium.crypto_pwhash(32, Buffer.from(password, 'utf8'), NACL_SALT, limits.opslimit, limits.memlimit, sodium.crypto_pwhash_ALG_ARGON2I13)
    keyCache.set(id, k)
  }
  return k
}

export async function naclSeal (json: string, password: string, limits = SENSITIVE): Promise<Buffer> {
  const key = await naclKey(password, limits)
  const nonce = sodium.randombytes_buf(24)
  return Buffer.concat([Buffer.from('$NACL'), nonce, sodium.crypto_secretbox_easy(Buffer.from(json), nonce, key)])
}

export async function naclOpen (data: Buffer, password: string, limits = SENSITIVE): Promise<string> {
  const key = await naclKey(password, limits)
  if (data.subarray(0, 5).toString() !== '$NACL') throw new Error('not NaCl')
  return Buffer.from(sodium.crypto_secretbox_open_easy(data.subarray(29), data.subarray(5, 29), key)).toString('utf8')
}

/** Ansible Vault 1.1 AES256, as ansible's VaultAES256 writes it. */
export function ansibleVault (plaintext: string, password: string): string {
  const salt = randomBytes(32)
  const d = pbkdf2Sync(Buffer.from(password), salt, 10_000, 80, 'sha256')
  const pad = 16 - (Buffer.byteLength(plaintext) % 16)
  const padded = Buffer.concat([Buffer.from(plaintext), Buffer.alloc(pad, pad)])
  const c = createCipheriv('aes-256-ctr', d.subarray(0, 32), d.subarray(64, 80))
  const ct = Buffer.concat([c.update(padded), c.final()])
  const mac = createHmac('sha256', d.subarray(32, 64)).update(ct).digest('hex')
  const inner = Buffer.from(`${salt.toString('hex')}\n${mac}\n${ct.toString('hex')}`).toString('hex')
  const lines = inner.match(/.{1,80}/g) ?? []
  return ['$ANSIBLE_VAULT;1.1;AES256', ...lines, ''].join('\n')
}

export function btPwVariable (file: string): string {
  return 'BT_PW_' + file.replace(/[/.]/g, '_').toUpperCase()
}

export function btPwValue (file: string, password: string): string {
  const name = Buffer.from(btPwVariable(file))
  const pw = Buffer.from(password, 'utf8')
  return Buffer.from(pw.map((b, i) => b ^ name[i % name.length])).toString('base64')
}

export interface WriteWalletOptions {
  coldkey: TestKey
  hotkey: TestKey
  /** how the coldkey is stored */
  coldFormat: 'nacl' | 'ansible' | 'plain'
  password?: string
  limits?: typeof SENSITIVE
  style?: JsonStyle
  /** write another key's address into coldkeypub.txt */
  coldkeypubOf?: TestKey
}

/** Writes `<root>/<name>/{coldkey,coldkeypub.txt,hotkeys/<hotkey>}` with mode 0600, as btwallet does. */
export async function writeWallet (root: string, name: string, hotkeyName: string, o: WriteWalletOptions): Promise<{ dir: string, coldkey: string, coldkeypub: string, hotkey: string }> {
  const dir = path.join(root, name)
  await mkdir(path.join(dir, 'hotkeys'), { recursive: true, mode: 0o700 })
  const files = { dir, coldkey: path.join(dir, 'coldkey'), coldkeypub: path.join(dir, 'coldkeypub.txt'), hotkey: path.join(dir, 'hotkeys', hotkeyName) }
  const coldJson = keypairJson(o.coldkey, { style: o.style })
  const cold = o.coldFormat === 'nacl'
    ? await naclSeal(coldJson, o.password ?? '', o.limits)
    : o.coldFormat === 'ansible' ? Buffer.from(ansibleVault(coldJson, o.password ?? '')) : Buffer.from(coldJson)
  const put = async (f: string, data: string | Buffer): Promise<void> => { await writeFile(f, data); await chmod(f, 0o600) }
  await put(files.coldkey, cold)
  await put(files.coldkeypub, keypairJson(o.coldkeypubOf ?? o.coldkey, { style: o.style, publicOnly: true }))
  await put(files.hotkey, keypairJson(o.hotkey, { style: o.style }))
  return files
}

/** Bytes and modification times of every file under `dir`, to show that nothing changed. */
export async function snapshot (dir: string): Promise<Record<string, { hex: string, mtimeMs: number, mode: number }>> {
  const out: Record<string, { hex: string, mtimeMs: number, mode: number }> = {}
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue
    const f = path.join(e.parentPath, e.name)
    const st = await stat(f)
    out[path.relative(dir, f)] = { hex: (await readFile(f)).toString('hex'), mtimeMs: st.mtimeMs, mode: st.mode & 0o777 }
  }
  return out
}

/** Test mnemonics (never funded). The first is btwallet's own test vector. */
export const MNEMONICS = [
  'old leopard transfer rib spatial phone calm indicate online fire caution review',
  'legal winner thank year wave sausage worth useful legal winner thank yellow',
  'letter advice cage absurd amount doctor acoustic avoid letter advice cage above'
]
