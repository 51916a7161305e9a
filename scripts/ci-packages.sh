#!/usr/bin/env bash
# Installs the Debian packages some tests need, where this machine lets CI install them
# (ci-apt-install.sh: root, apt-get), in one apt-get run so that `.ci/run` bounds them all with one
# timeout: podman, runc and a static busybox for the container tests (test/integration/job-container.test.ts
# and the container supplier's test in node-root.test.ts), and PyNaCl for the btcli cross-check
# (test/unit/wallet/pynacl.test.ts). Never fails the run: without them, those tests skip and say why.
set -u
missing=()
if ! command -v podman >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1 || [ ! -x /bin/busybox ]; then
  missing+=(podman runc catatonit busybox-static)
fi
/usr/bin/python3 -c 'import nacl.secret' >/dev/null 2>&1 || missing+=(python3-nacl)
if [ ${#missing[@]} -eq 0 ]; then
  echo "ci-packages: podman, runc, busybox and PyNaCl are installed"
  exit 0
fi
bash "$(dirname "$0")/ci-apt-install.sh" ci-packages "${missing[@]}" ||
  echo "ci-packages: the tests that need ${missing[*]} will skip"
command -v podman >/dev/null 2>&1 && echo "ci-packages: $(podman --version)"
exit 0
