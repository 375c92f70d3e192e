#!/usr/bin/env bash
# The end-to-end tier: a real Docker engine in its own network namespace, the built CLI, and the
# vitest e2e project. Always tears the engine down (trap), even when a test fails or the run is
# interrupted; on failure prints the engine's log and the sidecars' logs first.
#
#   bash test/e2e/run.sh [vitest args…]      e.g. bash test/e2e/run.sh test/e2e/jail.test.ts
#   DRYDOCK_E2E_KEEP=1   leave the engine running afterwards (eval "$(test/e2e/engine.sh env)")
#   DRYDOCK_E2E_SKIP_BUILD=1   use dist/ as it is
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=engine.sh
. "$here/engine.sh"

[[ $(id -u) == 0 ]] || { echo "e2e: needs root (network namespace, dockerd); try: sudo npm run test:e2e" >&2; exit 2; }

started=$SECONDS
status=1

diagnose() {
  e2e_log "FAILED: the engine's warnings and errors (last 80; full log: $(engine_dir)/dockerd.log, removed at teardown):"
  engine_logs 2>/dev/null | grep -E 'level=(warning|error|fatal)' | tail -n 80 >&2 || true
  [[ -n ${DRYDOCK_E2E_DIR:-} ]] || return 0 # no engine of ours: never ask whatever DOCKER_HOST names
  local name
  for name in $(docker ps -a --filter label=drydock.role=egress --format '{{.Names}}' 2>/dev/null); do
    e2e_log "sidecar $name, docker logs (last 100 lines):"
    docker logs --tail 100 "$name" >&2 2>&1 || true
  done
  e2e_log "containers left in the engine:"
  docker ps -a --format '{{.Names}}\t{{.Status}}\t{{.Labels}}' >&2 2>/dev/null || true
}

finish() {
  local rc=$?
  trap - EXIT INT TERM
  stop_tests
  ((status == 0)) || diagnose
  if [[ -n ${DRYDOCK_E2E_DIR:-} && -f $DRYDOCK_E2E_DIR/timings.txt ]]; then
    e2e_log "measured (printed, never asserted):"
    sed 's/^/  /' "$DRYDOCK_E2E_DIR/timings.txt" >&2
  fi
  if [[ ${DRYDOCK_E2E_KEEP:-} == 1 ]]; then
    e2e_log "engine kept: eval \"\$($here/engine.sh env)\"; stop it with $here/engine.sh stop"
  else
    engine_stop
  fi
  e2e_log "tier took $((SECONDS - started)) s"
  ((rc != 0 || status == 0)) || rc=$status
  exit "$rc"
}
# The tests run in their own process group (setsid below), so an interrupt can stop all of them
# (vitest, its workers, the drydock runs and docker CLIs they started) by that one id.
tests_pid=""
stop_tests() {
  [[ -n $tests_pid ]] || return 0
  kill -TERM -- "-$tests_pid" 2>/dev/null || return 0
  local i
  for ((i = 0; i < 20; i++)); do
    kill -0 -- "-$tests_pid" 2>/dev/null || return 0
    sleep 0.25
  done
  kill -KILL -- "-$tests_pid" 2>/dev/null || true
}
interrupted() {
  status=$1
  e2e_log "interrupted: stopping the tests, then the engine"
  stop_tests
  exit "$1"
}
trap finish EXIT
trap 'interrupted 130' INT
trap 'interrupted 143' TERM

eval "$(engine_start)"
engine_image
DRYDOCK_E2E_CLAUDE_BIN=$(engine_claude_code)
export DRYDOCK_E2E_CLAUDE_BIN
e2e_log "engine, base image and Claude Code ready after $((SECONDS - started)) s"

cd "$repo"
if [[ ${DRYDOCK_E2E_SKIP_BUILD:-} != 1 ]]; then
  npm run --silent build >&2
fi

export DRYDOCK_E2E=1
# In the background and waited for, so a signal is handled at once rather than after vitest ends.
setsid npx vitest run --config test/vitest.config.ts --project e2e "$@" &
tests_pid=$!
if wait "$tests_pid"; then status=0; else status=$?; fi
tests_pid=""
exit "$status"
