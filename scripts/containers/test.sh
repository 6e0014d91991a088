#!/usr/bin/env bash
# `npm run test:containers`: provisions a container engine (scripts/containers/provision.sh; quick when
# already done), runs @tidemark/testing's integration tests in the `containers` mode through it, and
# stops the podman service afterwards, whatever the outcome. Fails when provisioning fails (never
# skips), when a test fails, or when a container or the service survives.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
started=$(date +%s)

finish() {
  local status=$?
  bash "$ROOT/scripts/containers/stop.sh" || status=1
  echo "test:containers: $(($(date +%s) - started)) s in all (provisioning included)" >&2
  exit $status
}
# Set before provisioning: a provisioning that fails after starting the service stops it too.
trap finish EXIT

env_file=$(bash "$ROOT/scripts/containers/provision.sh" | tail -1)
[[ -f "$env_file" ]] || { echo "test:containers: provision.sh printed no env file" >&2; exit 1; }
set -a
# shellcheck disable=SC1090
source "$env_file"
set +a

cd "$ROOT/packages/testing"
TIDEMARK_LOCAL_AWS_MODE=containers npx vitest run --config vitest.containers.config.ts "$@"

# The packages as users install them (scripts/packed-install, prepared by `npm test`), in the
# containers mode too: the listener project adds testcontainers as the testing README says.
if [[ -n "${TIDEMARK_PACKED_PROJECT:-}" ]]; then
  testcontainers_version=$(node -p "require('$ROOT/node_modules/testcontainers/package.json').version")
  (cd "$TIDEMARK_PACKED_PROJECT/listener" &&
    npm install --save-dev --no-audit --no-fund "testcontainers@$testcontainers_version" >/dev/null)
  TIDEMARK_LOCAL_AWS_MODE=containers node "$ROOT/scripts/packed-install/run.mjs" \
    --run-prepared "$TIDEMARK_PACKED_PROJECT" --keep
fi
