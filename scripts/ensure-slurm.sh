#!/usr/bin/env bash
# Make a one-node Slurm cluster answer on this machine, for `grade slurm` and tests/test_slurm.py:
# as root, install Debian's slurm-wlm and munge when missing, create the munge key, start munged
# (as user munge), write a minimal /etc/slurm/slurm.conf naming this host (one partition `debug`),
# start slurmctld and slurmd, and wait until `sinfo` shows the node up. Does nothing when `sinfo`
# already answers with a usable node. A slurm.conf not written by this script is never replaced.
# Measured from scratch (apt-get install included): README, "Grading on a Slurm cluster".
set -u
MARK="# Written by dl-grader scripts/ensure-slurm.sh"
CONF=/etc/slurm/slurm.conf

node_up() {  # the node answers and takes jobs (idle, or busy with jobs already)
  sinfo -h -N -o '%t' 2>/dev/null | grep -qE '^(idle|mix|mixed|alloc|allocated|comp|completing)\*?$' \
    && ! sinfo -h -N -o '%t' 2>/dev/null | grep -q '\*'
}
fail() { echo "ensure-slurm: $*" >&2; exit 1; }

if node_up; then exit 0; fi
[ "$(id -u)" = 0 ] || fail "no Slurm cluster answers (sinfo) and we are not root; not starting one."

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 \
    || ! command -v sbatch >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || fail "no apt-get here; install slurm-wlm and munge with this system's package manager."
  echo "ensure-slurm: installing slurm-wlm and munge …" >&2
  export DEBIAN_FRONTEND=noninteractive
  (apt-get -o DPkg::Lock::Timeout=300 install -y -q slurm-wlm munge >/tmp/ensure-slurm-apt.log 2>&1 \
    || (apt-get update -q >/dev/null 2>&1 \
        && apt-get -o DPkg::Lock::Timeout=300 install -y -q slurm-wlm munge >/tmp/ensure-slurm-apt.log 2>&1)) \
    || fail "apt-get install slurm-wlm munge failed (see /tmp/ensure-slurm-apt.log)"
fi

# munge: the key, then munged as user munge
if [ ! -s /etc/munge/munge.key ]; then
  mungekey -c -k /etc/munge/munge.key >/dev/null 2>&1 || fail "mungekey -c could not create /etc/munge/munge.key"
fi
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
chmod 755 /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  pkill -x -u munge munged 2>/dev/null; rm -f /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged >/tmp/ensure-slurm-munged.log 2>&1 \
    || fail "munged did not start (see /tmp/ensure-slurm-munged.log, /var/log/munge/munged.log)"
  for _ in $(seq 1 20); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.25; done
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1 || fail "munge does not answer (see /var/log/munge/munged.log)"
fi

# slurm.conf: one node (this host), one partition
HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
REAL_MB=$(( MEM_MB > 4096 ? MEM_MB * 95 / 100 - 512 : MEM_MB * 9 / 10 ))
if [ -e "$CONF" ] && ! head -1 "$CONF" | grep -qF "$MARK"; then
  echo "ensure-slurm: keeping $CONF (not written by this script)" >&2
else
  mkdir -p /etc/slurm
  cat >"$CONF" <<EOF
$MARK: a one-node cluster on this host.
ClusterName=grader
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
SchedulerType=sched/backfill
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName=$HOST CPUs=$CPUS RealMemory=$REAL_MB State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
fi
mkdir -p /var/spool/slurmctld /var/spool/slurmd /var/log/slurm

pgrep -x slurmctld >/dev/null 2>&1 || slurmctld >/tmp/ensure-slurm-slurmctld.log 2>&1 \
  || fail "slurmctld did not start (see /var/log/slurm/slurmctld.log)"
pgrep -x slurmd >/dev/null 2>&1 || slurmd >/tmp/ensure-slurm-slurmd.log 2>&1 \
  || fail "slurmd did not start (see /var/log/slurm/slurmd.log)"
for i in $(seq 1 60); do
  if node_up; then exit 0; fi
  if [ "$i" = 20 ]; then scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1; fi  # down from an earlier run
  sleep 0.5
done
fail "the node did not come up within 30 s: sinfo says '$(sinfo -h -N -o '%N %t %E' 2>&1 | head -3)' (see /var/log/slurm/)"
