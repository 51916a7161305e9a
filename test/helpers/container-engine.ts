import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync, copyFileSync, rmSync } from 'node:fs'
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
