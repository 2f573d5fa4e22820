#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, to try `profiles/slurm` (or `profiles/slurm-local`)
# on a workstation and to run the `cluster` tests. Root only; Debian/Ubuntu packages `slurm-wlm` and
# `munge` (install with: apt-get install slurm-wlm munge).
#
#   scripts/slurm_local.sh start    write config under $PGML_SLURM_DIR, start munged, slurmctld, slurmd
#   scripts/slurm_local.sh stop     cancel this cluster's jobs, stop the three daemons it started
#   scripts/slurm_local.sh status   exit 0 when this cluster is up (prints sinfo), 3 when it is not
#   scripts/slurm_local.sh env      print the `export SLURM_CONF=...` line clients need
#
# Everything (slurm.conf, gres.conf, munge key and socket, state, spool, logs, pid files) lives under
# one directory, $PGML_SLURM_DIR (default /tmp/pgml-slurm); nothing in /etc is touched, so clients
# (sbatch, squeue, snakemake) find the cluster through SLURM_CONF:
#   export SLURM_CONF=$PGML_SLURM_DIR/etc/slurm.conf
# The one thing outside it: the symlink /run/slurm/conf -> $PGML_SLURM_DIR/etc, the place SLURM's
# clients look when neither SLURM_CONF nor /etc/slurm/slurm.conf exists (as on configless nodes). The
# Snakemake SLURM plugin strips SLURM_* variables before its `srun` inside each job, so that `srun`
# finds the cluster only there. `stop` removes the link (only if it still points here).
# The node is this host with its CPUs, most of its memory and one fake GPU (`Gres=gpu:1`, device
# /dev/null), so `sbatch --gpus=1` is scheduled and sees CUDA_VISIBLE_DEVICES=0 without a GPU.
# Memory limits are enforced by polling (jobacct_gather/linux + OverMemoryKill), so no cgroups are
# needed. `start` and `stop` are idempotent; `start` refuses when another SLURM is running here.
# Only the daemons named in this directory's pid files are ever signalled.
set -euo pipefail

DIR="${PGML_SLURM_DIR:-/tmp/pgml-slurm}"
CTLD_PORT="${PGML_SLURM_CTLD_PORT:-6817}"
SLURMD_PORT="${PGML_SLURM_SLURMD_PORT:-6818}"
PARTITION="${PGML_SLURM_PARTITION:-pgml}"
CONF="$DIR/etc/slurm.conf"
RUN="$DIR/run"
RUNLINK="${PGML_SLURM_RUNLINK:-/run/slurm/conf}"
MUNGE="$DIR/munge"
DAEMONS=(slurmd slurmctld munged)   # stop order

log() { echo "[slurm_local] $*" >&2; }
die() { log "error: $1"; exit "${2:-1}"; }

pidfile() { echo "$RUN/$1.pid"; }

# pid of one of our daemons if it is alive, else nothing
our_pid() {
    local f pid
    f=$(pidfile "$1")
    [ -s "$f" ] || return 1
    pid=$(tr -dc '0-9' < "$f")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    # the pid must still be that daemon (pids are reused)
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] || return 1
    echo "$pid"
}

all_ours_running() {
    local d
    for d in "${DAEMONS[@]}"; do our_pid "$d" >/dev/null || return 1; done
}

any_ours_running() {
    local d
    for d in "${DAEMONS[@]}"; do our_pid "$d" >/dev/null && return 0; done
    return 1
}

require_root() {
    [ "$(id -u)" -eq 0 ] || die "must run as root (it starts slurmctld, slurmd and munged); try: sudo $0 $*" 2
}

require_tools() {
    local t missing=()
    for t in slurmctld slurmd munged sinfo sbatch scontrol; do
        command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || missing+=("$t")
    done
    [ ${#missing[@]} -eq 0 ] || die "missing ${missing[*]}; install with: apt-get install slurm-wlm munge" 2
}

port_busy() {
    # true if something listens on TCP port $1 (reads /proc, needs no ss/netstat)
    local hex
    hex=$(printf '%04X' "$1")
    grep -qE "^ *[0-9]+: [0-9A-F]+:${hex} [0-9A-F]+:0000 0A" /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# SLURM daemons on this machine that are not ours (a site install, another test cluster)
foreign_slurm() {
    local p comm ours=" "
    for d in "${DAEMONS[@]}"; do ours+="$(our_pid "$d" || true) "; done
    for p in /proc/[0-9]*; do
        comm=$(cat "$p/comm" 2>/dev/null || true)
        case "$comm" in
            slurmctld|slurmd|slurmdbd)
                [[ "$ours" == *" ${p#/proc/} "* ]] || echo "$comm (pid ${p#/proc/})" ;;
        esac
    done
}

write_config() {
    local host cpus mem_kb mem_mb
    host=$(hostname -s)
    cpus=$(nproc)
    mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
    # leave a quarter (at most 4 GiB) to the system and the workflow's driver
    mem_mb=$(( mem_kb / 1024 ))
    mem_mb=$(( mem_mb - (mem_mb / 4 < 4096 ? mem_mb / 4 : 4096) ))
    mkdir -p "$DIR/etc" "$DIR/state" "$DIR/spool" "$DIR/log" "$RUN" "$MUNGE"
    chmod 0755 "$DIR" "$DIR/etc"
    chmod 0700 "$MUNGE"
    cat > "$CONF" <<EOF
# Written by scripts/slurm_local.sh: a one-node test cluster on $host. Regenerated on every start.
ClusterName=pgmllocal
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE/munge.socket
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/%n
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# no slurmdbd: sacct reports accounting disabled; clients use squeue for job states
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
# memory limits without cgroups: poll every second and kill steps over their --mem
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobAcctGatherParams=OverMemoryKill
# finished jobs stay visible to squeue and scontrol for an hour (Snakemake polls with squeue; the
# cluster test reads every job of a demo run that lasts longer than 10 minutes)
MinJobAge=3600
# time limits: a job over its limit is killed at once, not after the default grace
KillWait=5
OverTimeLimit=0
InactiveLimit=0
MessageTimeout=10
SlurmdTimeout=60
GresTypes=gpu
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb Gres=gpu:1 State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    cat > "$DIR/etc/gres.conf" <<EOF
# One fake GPU: scheduled like a GPU (CUDA_VISIBLE_DEVICES=0), no device behind it.
Name=gpu File=/dev/null
EOF
    chmod 0644 "$CONF" "$DIR/etc/gres.conf"
}

start_munged() {
    our_pid munged >/dev/null && return 0
    if [ ! -s "$MUNGE/munge.key" ]; then
        (umask 077; head -c 1024 /dev/urandom > "$MUNGE/munge.key")
    fi
    chmod 0400 "$MUNGE/munge.key"
    rm -f "$MUNGE/munge.socket" "$MUNGE/munge.socket.lock"
    munged --force --key-file="$MUNGE/munge.key" --socket="$MUNGE/munge.socket" \
        --pid-file="$RUN/munged.pid" --log-file="$DIR/log/munged.log" --seed-file="$MUNGE/munged.seed" \
        || die "munged failed to start; see $DIR/log/munged.log"
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
    local secs=$1 what=$2; shift 2
    local i
    for (( i = 0; i < secs * 5; i++ )); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    die "$what did not come up within ${secs}s; logs in $DIR/log"
}

node_idle() { sinfo -h -N -o '%T' | grep -qE '^(idle|mixed|allocated)'; }

cmd_start() {
    require_root start
    require_tools
    export SLURM_CONF="$CONF"
    if all_ours_running; then
        log "already running ($DIR)"
        echo "export SLURM_CONF=$CONF"
        return 0
    fi
    local foreign
    foreign=$(foreign_slurm)
    [ -z "$foreign" ] || die "another SLURM is running on this machine: $(echo $foreign); not starting a second one" 3
    if ! any_ours_running; then
        for port in "$CTLD_PORT" "$SLURMD_PORT"; do
            port_busy "$port" && die "TCP port $port is in use (another SLURM?); set PGML_SLURM_CTLD_PORT / PGML_SLURM_SLURMD_PORT" 3
        done
    fi
    if [ -e /etc/slurm/slurm.conf ]; then
        die "/etc/slurm/slurm.conf exists (a site SLURM configuration): job steps would read it instead of this cluster's; not starting" 3
    fi
    if [ -e "$RUNLINK" ] && [ "$(readlink "$RUNLINK")" != "$DIR/etc" ]; then
        die "$RUNLINK exists and is not ours ($(readlink "$RUNLINK" || echo 'not a link')): another SLURM (configless?) uses it" 3
    fi
    write_config
    mkdir -p "$(dirname "$RUNLINK")"
    ln -sfn "$DIR/etc" "$RUNLINK"
    start_munged
    wait_for 10 munged test -S "$MUNGE/munge.socket"
    if ! our_pid slurmctld >/dev/null; then
        # -c: start from a clean state (a test cluster keeps no jobs across restarts)
        slurmctld -c -f "$CONF" || die "slurmctld failed to start; see $DIR/log/slurmctld.log"
    fi
    wait_for 30 slurmctld scontrol ping
    if ! our_pid slurmd >/dev/null; then
        slurmd -f "$CONF" || die "slurmd failed to start; see $DIR/log/slurmd.log"
    fi
    wait_for 60 "the node" node_idle
    # a node left DOWN/DRAIN by an earlier run comes back
    scontrol update NodeName="$(hostname -s)" State=RESUME >/dev/null 2>&1 || true
    log "up: partition '$PARTITION', $(sinfo -h -N -o '%c CPUs, %m MB, gres %G, %T')"
    log "clients need: export SLURM_CONF=$CONF"
    echo "export SLURM_CONF=$CONF"
}

stop_daemon() {
    local name=$1 pid i
    pid=$(our_pid "$name") || { rm -f "$(pidfile "$name")"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for (( i = 0; i < 50; i++ )); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$(pidfile "$name")"
    log "stopped $name (pid $pid)"
}

cmd_stop() {
    require_root stop
    export SLURM_CONF="$CONF"
    if ! any_ours_running; then
        unlink_run
        log "not running ($DIR)"
        return 0
    fi
    if our_pid slurmctld >/dev/null && our_pid slurmd >/dev/null; then
        # cancel this cluster's jobs so no job step outlives slurmd
        local jobs i
        jobs=$(squeue -h -o '%A' 2>/dev/null | sort -u | tr '\n' ' ' || true)
        if [ -n "${jobs// /}" ]; then
            log "cancelling jobs: $jobs"
            # shellcheck disable=SC2086
            scancel $jobs 2>/dev/null || true
            for (( i = 0; i < 50; i++ )); do
                [ -z "$(squeue -h -t R,CG,PD -o '%A' 2>/dev/null)" ] && break
                sleep 0.2
            done
        fi
    fi
    local d
    for d in "${DAEMONS[@]}"; do stop_daemon "$d"; done
    unlink_run
}

unlink_run() {
    if [ -L "$RUNLINK" ] && [ "$(readlink "$RUNLINK")" = "$DIR/etc" ]; then
        rm -f "$RUNLINK"
        rmdir "$(dirname "$RUNLINK")" 2>/dev/null || true
    fi
}

cmd_status() {
    export SLURM_CONF="$CONF"
    local d pid up=1
    for d in "${DAEMONS[@]}"; do
        if pid=$(our_pid "$d"); then echo "$d: running (pid $pid)"; else echo "$d: not running"; up=0; fi
    done
    if [ $up -eq 1 ]; then
        echo "SLURM_CONF=$CONF"
        sinfo -N -o '%N %P %c %m %G %T' || true
        return 0
    fi
    local foreign
    foreign=$(foreign_slurm)
    [ -z "$foreign" ] || echo "other SLURM daemons on this machine: $(echo $foreign)"
    return 3
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) echo "export SLURM_CONF=$CONF" ;;
    *) echo "usage: $0 start|stop|status|env   (directory: \$PGML_SLURM_DIR, now $DIR)" >&2; exit 2 ;;
esac
