#!/usr/bin/env bash
# Make a Docker engine answer: install docker.io and start dockerd when we are root and it is missing.
# Without a registry (development and CI machines), dockerd runs without iptables and bridge;
# containers use --network none anyway.
set -u
if docker info >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-docker: no Docker engine answers and we are not root; not starting one." >&2
  exit 1
fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "ensure-docker: installing docker.io …" >&2
  export DEBIAN_FRONTEND=noninteractive
  (apt-get -o DPkg::Lock::Timeout=300 install -y -q docker.io >/tmp/ensure-docker-apt.log 2>&1 \
    || (apt-get update -q >/dev/null 2>&1 && apt-get -o DPkg::Lock::Timeout=300 install -y -q docker.io >/tmp/ensure-docker-apt.log 2>&1)) \
    || { echo "ensure-docker: apt-get install docker.io failed (see /tmp/ensure-docker-apt.log)" >&2; exit 1; }
fi
if ! pgrep -x dockerd >/dev/null 2>&1; then
  echo "ensure-docker: starting dockerd …" >&2
  setsid dockerd --iptables=false --bridge=none >/tmp/dockerd.log 2>&1 < /dev/null &
fi
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then exit 0; fi
  sleep 0.5
done
echo "ensure-docker: dockerd did not answer within 30 s (see /tmp/dockerd.log)" >&2
exit 1
