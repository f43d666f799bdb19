#!/usr/bin/env bash
# Stop the single-node Slurm cluster started by scripts/slurm-up.sh.
#
# Usage (as root):  SLURM_BASE=/tmp/denoisebench-slurm scripts/slurm-down.sh
#
# Only the daemons whose PIDs slurm-up.sh recorded in $SLURM_BASE/run/*.pid are
# stopped (TERM, then KILL after 10 s), and only if the PID still belongs to the
# expected program (guards against PID reuse).  A munged that was already
# running before slurm-up.sh has no PID file here and is left alone.  The
# /etc/slurm/{slurm,gres}.conf links are removed only if they point into
# $SLURM_BASE.  Safe to run twice, or after a failed slurm-up.sh; exits 0
# unless a daemon could not be stopped.
set -euo pipefail

BASE=${SLURM_BASE:-/tmp/denoisebench-slurm}

log() { echo "slurm-down: $*"; }

case $BASE in
  /?*) ;;
  *) echo "slurm-down: ERROR: SLURM_BASE must be an absolute path other than /" >&2; exit 1 ;;
esac

failed=0

# PID from a pid file if that process is alive and is the expected program.
live_pid() {  # live_pid FILE COMM
  local f=$1 comm=$2 pid
  [ -s "$f" ] || return 1
  pid=$(tr -dc '0-9' <"$f")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] || return 1
  echo "$pid"
}

stop_pidfile() {  # stop_pidfile FILE COMM
  local f=$1 comm=$2 pid
  if ! pid=$(live_pid "$f" "$comm"); then
    rm -f "$f"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || { log "stopped $comm (pid $pid)"; rm -f "$f"; return 0; }
    sleep 0.2
  done
  log "$comm (pid $pid) ignored TERM; sending KILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.2
  if kill -0 "$pid" 2>/dev/null; then
    echo "slurm-down: ERROR: could not stop $comm (pid $pid)" >&2
    failed=1
  else
    rm -f "$f"
  fi
}

# Cancel what is still queued or running, while the controller is up, so that
# no job step outlives slurmd.
if live_pid "$BASE/run/slurmctld.pid" slurmctld >/dev/null; then
  jobs=$(squeue -h -o %i 2>/dev/null || true)
  if [ -n "$jobs" ]; then
    log "cancelling jobs: $(echo "$jobs" | tr '\n' ' ')"
    # shellcheck disable=SC2086  # word splitting intended: one id per word
    scancel $jobs 2>/dev/null || true
    for _ in $(seq 50); do
      [ -z "$(squeue -h -t RUNNING,COMPLETING -o %i 2>/dev/null || true)" ] && break
      sleep 0.2
    done
  fi
fi

stop_pidfile "$BASE/run/slurmd.pid" slurmd
stop_pidfile "$BASE/run/slurmctld.pid" slurmctld
stop_pidfile "$BASE/run/munged.pid" munged

for f in /etc/slurm/slurm.conf /etc/slurm/gres.conf; do
  if [ -L "$f" ]; then
    case $(readlink "$f") in
      "$BASE"/*) rm -f "$f"; log "removed link $f" ;;
      *) log "left $f alone (points outside $BASE)" ;;
    esac
  fi
done

if pgrep -x slurmstepd >/dev/null; then
  log "warning: slurmstepd processes remain: $(pgrep -x slurmstepd | tr '\n' ' ')"
fi
log "down (logs kept in $BASE/log/)"
exit "$failed"
