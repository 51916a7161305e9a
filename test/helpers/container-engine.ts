import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

/** the image the container tests run: busybox alone, imported from the host's static busybox */
export const TEST_IMAGE = 'localhost/bazaar-test-busybox:1'

/** where the container tests can run, or why not */
export type TestEngine = { engine: 'podman', env: Record<string, string> } | { unavailable: string }

const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p))
const TOOLS = ['sh', 'cat', 'echo', 'ls', 'sleep', 'id', 'env', 'head', 'dd', 'grep', 'sha256sum', 'true']

/**
 * Podman, with the test's own containers.conf: cgroupfs as the cgroup manager (no systemd session
 * in a test), and runc where it is installed, which also runs on hosts whose cgroups are a v1/v2
 * hybrid (crun refuses those). The image is imported once from the host's static busybox, so no
 * registry is needed. Nothing is set up where podman or a static busybox is missing.
 */
export function podmanForTests (): TestEngine {
  const which = spawnSync('podman', ['--version'], { timeout: 10_000 })
  if (which.status !== 0) return { unavailable: 'podman is not installed (apt-get install podman runc busybox-static)' }
  if (BUSYBOX == null || !/statically linked/.test(spawnSync('file', ['-L', BUSYBOX], { encoding: 'utf8' }).stdout ?? '')) {
    return { unavailable: 'no static busybox to build the test image from (apt-get install busybox-static)' }
  }
  const confDir = mkdtempSync(path.join(tmpdir(), 'bazaar-podman-'))
  const conf = path.join(confDir, 'containers.conf')
  const runc = ['/usr/bin/runc', '/usr/sbin/runc', '/usr/local/bin/runc'].find((p) => existsSync(p))
  writeFileSync(conf, `[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n${runc != null ? `runtime = "${runc}"\n` : ''}`)
  const env = { ...process.env, CONTAINERS_CONF: conf } as Record<string, string>
  const info = spawnSync('podman', ['info'], { timeout: 30_000, env, encoding: 'utf8' })
  if (info.status !== 0) return { unavailable: `podman info fails here: ${(info.stderr ?? '').trim().split('\n').pop() ?? ''}` }
  if (spawnSync('podman', ['image', 'exists', TEST_IMAGE], { timeout: 30_000, env }).status !== 0) {
    const root = mkdtempSync(path.join(tmpdir(), 'bazaar-rootfs-'))
    try {
      for (const d of ['bin', 'tmp', 'job', 'proc', 'sys', 'dev', 'etc']) mkdirSync(path.join(root, d))
      copyFileSync(BUSYBOX, path.join(root, 'bin', 'busybox'))
      for (const t of TOOLS) symlinkSync('busybox', path.join(root, 'bin', t))
      const tar = path.join(root, '..', `${path.basename(root)}.tar`)
      const made = spawnSync('tar', ['-C', root, '-cf', tar, '.'], { timeout: 60_000 })
      const imported = made.status === 0 ? spawnSync('podman', ['import', '--change', 'ENV PATH=/bin', tar, TEST_IMAGE], { timeout: 120_000, env, encoding: 'utf8' }) : made
      rmSync(tar, { force: true })
      if (imported.status !== 0) return { unavailable: `the test image could not be imported: ${String(imported.stderr ?? '').trim().split('\n').pop() ?? ''}` }
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  }
  return { engine: 'podman', env }
}

/** the test's own CDI spec: two "GPUs" that hand a container an environment variable each */
export const TEST_CDI_FILE = '/var/run/cdi/bazaar-test-gpus.json'

/** another spec of kind nvidia.com/gpu than the test's (a real GPU host's), or undefined */
export function foreignNvidiaSpec (): string | undefined {
  for (const dir of ['/etc/cdi', '/var/run/cdi']) {
    let names: string[] = []
    try { names = readdirSync(dir) } catch { continue }
    for (const n of names) {
      const file = path.join(dir, n)
      if (file === TEST_CDI_FILE || !/\.(json|ya?ml)$/.test(n)) continue
      try { if (readFileSync(file, 'utf8').includes('nvidia.com/gpu')) return file } catch {}
    }
  }
  return undefined
}

/**
 * Writes the test's CDI spec (kind nvidia.com/gpu, devices "0" and "1", each setting
 * BAZAAR_CDI_GPU to its name), so that podman's `--device nvidia.com/gpu=N` path runs without a
 * GPU. Refused where another nvidia.com/gpu spec exists (two of one kind conflict) or the folder
 * cannot be written. Only one test file writes it, so no other run sees it come and go.
 */
export function writeTestCdiSpec (): string | undefined {
  const foreign = foreignNvidiaSpec()
  if (foreign != null) return `a CDI spec for real GPUs is here (${foreign})`
  const spec = {
    cdiVersion: '0.5.0',
    kind: 'nvidia.com/gpu',
    devices: ['0', '1'].map((name) => ({ name, containerEdits: { env: [`BAZAAR_CDI_GPU=${name}`] } })),
    containerEdits: { env: ['BAZAAR_CDI=1'] }
  }
  try {
    mkdirSync(path.dirname(TEST_CDI_FILE), { recursive: true })
    writeFileSync(TEST_CDI_FILE, JSON.stringify(spec))
    return undefined
  } catch (err) {
    return `cannot write ${TEST_CDI_FILE}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`
  }
}
