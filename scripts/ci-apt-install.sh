#!/usr/bin/env bash
# Installs Debian packages for tests that need them, where this machine lets CI install them:
# root, apt-get, and the packages in its lists (read once more when the first try fails). Never
# stops the run: exit 1 says the packages are not there, and the tests that need them skip and say
# why. Usage: ci-apt-install.sh <name for its messages and log> <package>...
set -u
name=$1
shift
log=/tmp/$name.log
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "$name: not root or no apt-get"
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! timeout 180 apt-get install -y -q "$@" >"$log" 2>&1; then
  # stale or missing package lists: read them once, then try again
  timeout 90 apt-get update -q >>"$log" 2>&1
  if ! timeout 180 apt-get install -y -q "$@" >>"$log" 2>&1; then
    echo "$name: the install failed (tail of $log below)"
    tail -n 2 "$log"
    exit 1
  fi
fi
tail -n 2 "$log"
exit 0
