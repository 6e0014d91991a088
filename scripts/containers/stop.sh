#!/usr/bin/env bash
# Stops what scripts/containers/provision.sh started: removes any container the containers mode left
# (there should be none: it is reported and fails this script), then ends the podman API service.
# Does nothing to a Docker engine it did not start. Exit status 1 when something had to be cleaned up
# or could not be stopped.
set -uo pipefail

RUN_DIR=${TIDEMARK_CONTAINERS_RUN_DIR:-${XDG_RUNTIME_DIR:+$XDG_RUNTIME_DIR/tidemark-containers}}
RUN_DIR=${RUN_DIR:-/tmp/tidemark-containers-$(id -u)}
SOCKET="$RUN_DIR/podman.sock"
PID_FILE="$RUN_DIR/podman-service.pid"
LABEL=dev.tidemark.testing.session
status=0

log() { printf '[containers stop] %s\n' "$*" >&2; }

if [[ ! -f "$PID_FILE" ]]; then
  log "no podman service was started by provision.sh in $RUN_DIR; nothing to stop"
  exit 0
fi
pid=$(cat "$PID_FILE")
export CONTAINERS_CONF="$RUN_DIR/containers.conf"

if command -v podman >/dev/null; then
  left=$(podman ps --all --quiet --filter "label=$LABEL" 2>/dev/null || true)
  if [[ -n "$left" ]]; then
    log "containers of the containers mode survived the suite; removing them: $(echo "$left" | tr '\n' ' ')"
    # shellcheck disable=SC2086
    podman rm --force --time 0 --volumes $left >/dev/null || true
    status=1
  fi
  networks=$(podman network ls --quiet --filter label=org.testcontainers 2>/dev/null || true)
  if [[ -n "$networks" ]]; then
    log "networks created through testcontainers survived the suite; removing them: $(echo "$networks" | tr '\n' ' ')"
    # shellcheck disable=SC2086
    podman network rm --force $networks >/dev/null || true
    status=1
  fi
fi

# Only the process recorded by provision.sh, and only while it still is that podman service.
if [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "podman system service.*$SOCKET"; then
  kill -TERM "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "podman service $pid ignored SIGTERM for 10 s; killing it"
    kill -KILL "$pid"
    status=1
  fi
  log "podman service $pid stopped"
else
  log "podman service $pid is no longer running"
fi
rm -f "$PID_FILE" "$SOCKET"
exit $status
