#!/usr/bin/env bash
# Installs what the container tests run on (podman, runc and a static busybox to import their test
# image from), where this machine lets CI install Debian packages: root, apt-get, and the packages
# in its lists. Never fails the run: without them, test/integration/job-container.test.ts and the
# container supplier's test in node-root.test.ts skip and say why.
set -u
if command -v podman >/dev/null 2>&1 && command -v runc >/dev/null 2>&1 && [ -x /bin/busybox ]; then
  echo "ci-container-engine: podman, runc and busybox are installed"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ci-container-engine: not root or no apt-get: the container tests will skip"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! timeout 180 apt-get install -y -q podman runc catatonit busybox-static >/tmp/ci-container-engine.log 2>&1; then
  # stale or missing package lists: read them once, then try again
  timeout 90 apt-get update -q >>/tmp/ci-container-engine.log 2>&1
  timeout 180 apt-get install -y -q podman runc catatonit busybox-static >>/tmp/ci-container-engine.log 2>&1 ||
    echo "ci-container-engine: the install failed (tail of /tmp/ci-container-engine.log below): the container tests will skip"
fi
tail -n 2 /tmp/ci-container-engine.log 2>/dev/null
command -v podman >/dev/null 2>&1 && echo "ci-container-engine: $(podman --version)"
exit 0
