#!/usr/bin/env bash
# Bring up a real single-node Slurm cluster on localhost, for testing the
# Snakemake cluster profiles (workflow/profiles/slurm, workflow/profiles/slurm-gpu).
#
# Usage (as root, Debian/Ubuntu):
#   SLURM_BASE=/tmp/denoisebench-slurm scripts/slurm-up.sh
#   ...  sinfo; snakemake --profile workflow/profiles/slurm ...
#   SLURM_BASE=/tmp/denoisebench-slurm scripts/slurm-down.sh
#
# Environment:
#   SLURM_BASE   directory holding config, state, logs and PID files
#                (default /tmp/denoisebench-slurm; must be absolute).
#   SLURM_GPUS   0 (default) or 1: with 1, advertise one fake "gpu" GRES on the
#                node (backed by /dev/null: no real device) and add a "gpu"
#                partition, to exercise the slurm-gpu profile's scheduling path.
#
# What it does: installs slurm-wlm + munge with apt-get if missing, starts
# munged (unless one already answers), writes $SLURM_BASE/etc/slurm.conf,
# links it to /etc/slurm/slurm.conf (job steps drop SLURM_CONF, so the config
# must be at the compiled-in path), starts slurmctld and slurmd, and waits until
# the node is idle. Every daemon it starts has its PID in $SLURM_BASE/run/*.pid;
# slurm-down.sh stops exactly those. Partition "debug" is the default one.
#
# Idempotence: if this SLURM_BASE's cluster is already up and healthy it is
# reused (exit 0); if some other Slurm is running, or /etc/slurm/slurm.conf is a
# real file, it refuses (exit 1) rather than clobber it. A link left by a cluster
# whose daemons are gone (killed without slurm-down.sh) is replaced.
set -euo pipefail

BASE=${SLURM_BASE:-/tmp/denoisebench-slurm}
GPUS=${SLURM_GPUS:-0}
CONF_LINK=/etc/slurm/slurm.conf
export DEBIAN_FRONTEND=noninteractive

die() { echo "slurm-up: ERROR: $*" >&2; exit 1; }
log() { echo "slurm-up: $*"; }

start_ns=$(date +%s%N)

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and starts daemons)"
case $BASE in
  /?*) ;;
  *) die "SLURM_BASE must be an absolute path other than /, got '$BASE'" ;;
esac
case $GPUS in
  0|1) ;;
  *) die "SLURM_GPUS must be 0 or 1, got '$GPUS'" ;;
esac

# PID from a pid file if that process is alive and is the expected program.
live_pid() {  # live_pid FILE COMM
  local f=$1 comm=$2 pid
  [ -s "$f" ] || return 1
  pid=$(tr -dc '0-9' <"$f")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] || return 1
  echo "$pid"
}

node_state() { sinfo -h -o %t 2>/dev/null | head -n1 || true; }

# --- already up? ----------------------------------------------------------------
if live_pid "$BASE/run/slurmctld.pid" slurmctld >/dev/null; then
  if live_pid "$BASE/run/slurmd.pid" slurmd >/dev/null \
     && [ "$(readlink "$CONF_LINK" 2>/dev/null || true)" = "$BASE/etc/slurm.conf" ] \
     && [ "$(node_state)" = idle ]; then
    log "cluster under $BASE is already up; reusing it"
    sinfo
    log "logs: $BASE/log/"
    exit 0
  fi
  die "a cluster under $BASE is partly up; run SLURM_BASE=$BASE scripts/slurm-down.sh first"
fi
for d in slurmctld slurmd; do
  if pgrep -x "$d" >/dev/null; then
    die "a $d not started from $BASE is running (pid $(pgrep -x "$d" | tr '\n' ' '));" \
        "stop it (e.g. its own slurm-down.sh) before starting another cluster"
  fi
done
if [ -e "$CONF_LINK" ] || [ -L "$CONF_LINK" ]; then
  if [ ! -L "$CONF_LINK" ]; then
    die "$CONF_LINK is a real file (a system Slurm?); refusing to replace it"
  fi
  # No slurmctld or slurmd runs (checked above), so a link to another base is
  # left over from a cluster whose daemons died without its slurm-down.sh (a
  # killed test run, a rebooted machine): nothing uses it, so it is replaced.
  target=$(readlink "$CONF_LINK")
  if [ "$target" != "$BASE/etc/slurm.conf" ]; then
    log "replacing the stale link $CONF_LINK -> $target (no Slurm daemon is running)"
  fi
fi

# --- packages -------------------------------------------------------------------
missing=()
for p in slurm-wlm munge; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get"
  log "installing ${missing[*]} (apt-get)"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Fresh working tree for this cluster (only our own subdirectories are wiped).
rm -rf "${BASE:?}/etc" "${BASE:?}/state" "${BASE:?}/spool" "${BASE:?}/log" "${BASE:?}/run"
mkdir -p "$BASE"/{etc,state,spool,log,run}

# --- munge ------------------------------------------------------------------------
munge_ok() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }
if munge_ok; then
  log "munged already running (not started here: slurm-down.sh will leave it alone)"
else
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key  # Debian's postinst normally does this
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  install -d -o munge -g munge -m 0755 /run/munge
  # munged refuses insecure paths, and pytest's tmp dirs are not traversable by
  # the munge user, so it keeps its default socket/pid/log locations; we copy
  # its PID into our run dir.  --force: remove a stale socket from a crash.
  runuser -u munge -- /usr/sbin/munged --force  # daemonizes
  for _ in $(seq 50); do munge_ok && break; sleep 0.1; done
  munge_ok || die "munged did not come up; see /var/log/munge/munged.log"
  pid=$(live_pid /run/munge/munged.pid munged) || die "munged runs but /run/munge/munged.pid is unusable"
  echo "$pid" >"$BASE/run/munged.pid"
fi

# --- slurm.conf ---------------------------------------------------------------------
HOST=$(hostname -s)
CPUS=$(nproc)
MEM=$(( $(awk '/MemTotal/{print int($2/1024)}' /proc/meminfo) - 512 ))
GRES_LINES=""
NODE_GRES=""
GPU_PARTITION=""
if [ "$GPUS" -gt 0 ]; then
  GRES_LINES="GresTypes=gpu"
  NODE_GRES="Gres=gpu:${GPUS}"
  GPU_PARTITION="PartitionName=gpu Nodes=ALL Default=NO MaxTime=INFINITE State=UP"
  # slurmd counts a gpu only if it has a device file (a count-only line gives
  # "gres/gpu count reported lower than configured" and an INVAL node), so the
  # fake gpu is /dev/null.
  printf 'NodeName=%s Name=gpu File=/dev/null\n' "$HOST" >"$BASE/etc/gres.conf"
fi
cat >"$BASE/etc/slurm.conf" <<CONF
# Generated by scripts/slurm-up.sh for a single-node test cluster.
ClusterName=denoisebench
SlurmctldHost=${HOST}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
# cgroups are not available in every sandbox; these work everywhere.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
ReturnToService=2
# squeue-based status checks need finished jobs to stay visible for a while, and
# tests/e2e/test_slurm.py reads every job of a whole run (minutes) back with scontrol.
MinJobAge=3600
SlurmctldPort=6817
SlurmdPort=6818
SlurmctldPidFile=${BASE}/run/slurmctld.pid
SlurmdPidFile=${BASE}/run/slurmd.pid
StateSaveLocation=${BASE}/state
SlurmdSpoolDir=${BASE}/spool
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Without a default, a job that gives no memory takes the whole node.
DefMemPerCPU=1000
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SlurmctldLogFile=${BASE}/log/slurmctld.log
SlurmdLogFile=${BASE}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
${GRES_LINES}
NodeName=${HOST} NodeAddr=127.0.0.1 CPUs=${CPUS} RealMemory=${MEM} ${NODE_GRES} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
${GPU_PARTITION}
CONF
# Clients inside jobs (the job-step plugin's nested srun) drop SLURM_CONF, so
# the config must be at the compiled-in default path.  gres.conf is looked up
# beside slurm.conf.
mkdir -p /etc/slurm
ln -sfn "$BASE/etc/slurm.conf" "$CONF_LINK"
if [ -f "$BASE/etc/gres.conf" ]; then
  if [ -e /etc/slurm/gres.conf ] && [ ! -L /etc/slurm/gres.conf ]; then
    die "/etc/slurm/gres.conf is a real file; refusing to replace it"
  fi
  ln -sfn "$BASE/etc/gres.conf" /etc/slurm/gres.conf
elif [ -L /etc/slurm/gres.conf ]; then
  rm -f /etc/slurm/gres.conf  # stale (no daemon runs): from an earlier SLURM_GPUS=1 cluster
fi

# --- daemons ------------------------------------------------------------------------
fail_with_logs() {
  echo "slurm-up: ERROR: $*" >&2
  for f in "$BASE"/log/slurmctld.log "$BASE"/log/slurmd.log; do
    [ -f "$f" ] && { echo "--- tail $f" >&2; tail -n 20 "$f" >&2; }
  done
  echo "slurm-up: clean up with SLURM_BASE=$BASE scripts/slurm-down.sh" >&2
  exit 1
}
/usr/sbin/slurmctld -i || fail_with_logs "slurmctld failed to start"  # daemonizes; -i: ignore old state
/usr/sbin/slurmd || fail_with_logs "slurmd failed to start"            # daemonizes
state=""
for _ in $(seq 150); do
  state=$(node_state)
  [ "$state" = idle ] && break
  sleep 0.2
done
[ "$state" = idle ] || fail_with_logs "node not idle after 30 s (state '${state:-none}')"
live_pid "$BASE/run/slurmctld.pid" slurmctld >/dev/null || fail_with_logs "no slurmctld PID file"
live_pid "$BASE/run/slurmd.pid" slurmd >/dev/null || fail_with_logs "no slurmd PID file"

sinfo
elapsed_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
log "up in ${elapsed_ms} ms: ${CPUS} CPUs, ${MEM} MB, partitions: $(sinfo -h -o %P | tr '\n' ' ')"
log "config: $BASE/etc/slurm.conf (linked from $CONF_LINK)"
log "logs:   $BASE/log/ (slurmctld.log, slurmd.log; munged: /var/log/munge/munged.log)"
pidfiles=("$BASE"/run/*.pid)
log "pids:   ${pidfiles[*]}"
log "stop:   SLURM_BASE=$BASE scripts/slurm-down.sh"
