#!/usr/bin/env bash
# Make Debian's headless Chromium and its WebDriver available for the browser tests of the class
# report and the feedback pages (tests/test_browser.py): install `chromium` and `chromium-driver`
# when we are root and they are missing. Without them those tests skip with a reason.
set -u
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-chromium: chromium/chromedriver are not installed and we are not root; not installing them." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: no apt-get here; install chromium and its driver with this system's package manager." >&2
  exit 1
fi
echo "ensure-chromium: installing chromium and chromium-driver …" >&2
export DEBIAN_FRONTEND=noninteractive
# another apt run (ensure-docker.sh, ensure-bwrap.sh) may hold the lock for a moment
for _ in $(seq 60); do
  fuser /var/lib/dpkg/lock-frontend >/dev/null 2>&1 || break
  sleep 2
done
packages="chromium chromium-driver fonts-dejavu-core"
(apt-get install -y -q --no-install-recommends $packages >/tmp/ensure-chromium-apt.log 2>&1 \
  || (apt-get update -q >/dev/null 2>&1 \
      && apt-get install -y -q --no-install-recommends $packages >/tmp/ensure-chromium-apt.log 2>&1)) \
  || { echo "ensure-chromium: apt-get install failed (see /tmp/ensure-chromium-apt.log)" >&2; exit 1; }
command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1
