#!/usr/bin/env bash
# Make bubblewrap (bwrap) available for `grade batch --backend local`: install Debian's bubblewrap
# package when we are root and it is missing. Without it the local backend falls back to weaker
# isolation and says so (README: Security); the isolation tests then skip with a reason.
set -u
if command -v bwrap >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-bwrap: bwrap is not installed and we are not root; not installing it." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-bwrap: no apt-get here; install bubblewrap with this system's package manager." >&2
  exit 1
fi
echo "ensure-bwrap: installing bubblewrap …" >&2
export DEBIAN_FRONTEND=noninteractive
(apt-get install -y -q bubblewrap >/tmp/ensure-bwrap-apt.log 2>&1 \
  || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q bubblewrap >/tmp/ensure-bwrap-apt.log 2>&1)) \
  || { echo "ensure-bwrap: apt-get install bubblewrap failed (see /tmp/ensure-bwrap-apt.log)" >&2; exit 1; }
command -v bwrap >/dev/null 2>&1
