#!/usr/bin/env bash
# Installs what the container tests run on (podman, runc and a static busybox to import their test
# image from), where this machine lets CI install Debian packages (ci-apt-install.sh). Never fails
# the run: without them, test/integration/job-container.test.ts and the container supplier's test
# in node-root.test.ts skip and say why.
set -u
if command -v podman >/dev/null 2>&1 && command -v runc >/dev/null 2>&1 && [ -x /bin/busybox ]; then
  echo "ci-container-engine: podman, runc and busybox are installed"
  exit 0
fi
bash "$(dirname "$0")/ci-apt-install.sh" ci-container-engine podman runc catatonit busybox-static ||
  echo "ci-container-engine: the container tests will skip"
command -v podman >/dev/null 2>&1 && echo "ci-container-engine: $(podman --version)"
exit 0
