#!/usr/bin/env bash
# A real Docker engine for the end-to-end tier, isolated in its own network namespace so nothing
# it does touches this machine's network (see /work/shared/ENGINE.md for the recipe's history).
#
#   engine.sh start   install what is missing, start dockerd in netns $DRYDOCK_E2E_NETNS, print
#                     `export DOCKER_HOST=…` lines (idempotent: a healthy engine is reused)
#   engine.sh image   ensure the base image drydock-e2e-base:bookworm (rootfs cached on disk)
#   engine.sh stop    kill dockerd, containerd, shims and every container process, unmount what
#                     the engine mounted, delete the netns and the scratch dir (safe to repeat)
#   engine.sh logs    print the engine's log
#   engine.sh env     print the export lines of the running engine
#
# Sourcing this file (`. engine.sh`) defines the same steps as functions (engine_start, …).
set -euo pipefail

E2E_NETNS=${DRYDOCK_E2E_NETNS:-drydock-e2e}
# Where `start` records the scratch dir so a later `stop` (another process) finds it.
E2E_STATE=${DRYDOCK_E2E_STATE:-/run/drydock-e2e}/$E2E_NETNS
E2E_CACHE=${DRYDOCK_E2E_CACHE:-/var/cache/drydock-e2e}
E2E_BASE_IMAGE=drydock-e2e-base:bookworm
# The packages of the base image; the cache key is their hash, so changing the list rebuilds it.
# The agent's (templates/agent/ builds offline FROM it): git, ssh client, netcat-openbsd, less;
# python3 (json, ssl) for the fake model API, openssh-server for the fake SSH server.
E2E_PACKAGES=tinyproxy,dnsmasq-base,curl,ca-certificates,bash,python3-minimal,iproute2,procps,git,openssh-client,openssh-server,netcat-openbsd,less,python3
# The real Claude Code the agent tier runs, installed from npm on the host (the engine has no
# route out). 2.1.197: its package ships the native binary, so no postinstall step is needed.
E2E_CLAUDE_CODE_VERSION=${DRYDOCK_E2E_CLAUDE_CODE_VERSION:-2.1.197}

e2e_log() { printf 'e2e: %s\n' "$*" >&2; }

engine_install() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
  command -v tinyproxy >/dev/null || missing+=(tinyproxy)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v nsenter >/dev/null || missing+=(util-linux)
  if ((${#missing[@]})); then
    e2e_log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  fi
}

engine_dir() { [[ -f $E2E_STATE ]] && cat "$E2E_STATE"; }

engine_env() {
  local dir
  dir=$(engine_dir) || { e2e_log "no engine recorded at $E2E_STATE"; return 1; }
  printf 'export DOCKER_HOST=unix://%s/docker.sock\n' "$dir"
  printf 'export DRYDOCK_E2E_DIR=%s\n' "$dir"
  printf 'export DRYDOCK_E2E_NETNS=%s\n' "$E2E_NETNS"
}

engine_answers() {
  local dir=$1
  DOCKER_HOST=unix://$dir/docker.sock timeout 5 docker info >/dev/null 2>&1
}

engine_start() {
  [[ $(id -u) == 0 ]] || { e2e_log "the e2e tier needs root (network namespaces, dockerd)"; return 1; }
  engine_install
  local dir
  if dir=$(engine_dir) && [[ -d $dir ]] && engine_answers "$dir"; then
    e2e_log "reusing the engine in netns $E2E_NETNS ($dir)"
    engine_env
    return 0
  fi
  engine_stop # a half-started or crashed previous run: clear it before starting afresh
  # overlay2 builds and starts containers ~15x faster than vfs; vfs works everywhere (even when
  # /tmp is itself an overlay), so it is the fallback.
  local driver
  for driver in ${DRYDOCK_E2E_STORAGE_DRIVER:-overlay2 vfs}; do
    if engine_start_with "$driver"; then
      engine_env
      return 0
    fi
    e2e_log "dockerd with storage driver $driver did not come up; its log:"
    tail -n 20 "$(engine_dir)/dockerd.log" >&2 || true
    engine_stop
  done
  return 1
}

engine_start_with() {
  local driver=$1 dir
  dir=$(mktemp -d /tmp/drydock-e2e.XXXXXX)
  mkdir -p "$(dirname "$E2E_STATE")"
  printf '%s\n' "$dir" >"$E2E_STATE"
  ip netns add "$E2E_NETNS"
  ip netns exec "$E2E_NETNS" ip link set lo up
  # nsenter, not `ip netns exec`: the latter remounts /sys and dockerd then finds no devices cgroup.
  # Containers go under their own cgroup parent so `stop` can find and kill every process of them.
  nsenter --net="/var/run/netns/$E2E_NETNS" setsid dockerd \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
    -H "unix://$dir/docker.sock" --storage-driver "$driver" \
    --cgroup-parent "/$E2E_NETNS" \
    >"$dir/dockerd.log" 2>&1 </dev/null &
  local pid=$! i # nsenter and setsid exec: this is dockerd's pid
  for ((i = 1; i <= 120; i++)); do
    sleep 0.25
    kill -0 "$pid" 2>/dev/null || return 1
    if engine_answers "$dir"; then
      engine_driver_works "$dir" || return 1
      e2e_log "engine up in netns $E2E_NETNS (storage driver $driver) after $((i / 4)).$(((i % 4) * 25))s"
      return 0
    fi
  done
  return 1
}

# dockerd may start with a driver that cannot mount (overlay on overlay): mount one layer to know.
engine_driver_works() {
  local dir=$1 probe cid ok=1
  probe=$(mktemp -d "$dir/probe.XXXXXX")
  printf 'probe\n' >"$probe/probe"
  export DOCKER_HOST=unix://$dir/docker.sock
  if tar -C "$probe" -c probe | docker import - drydock-e2e-probe:driver >/dev/null &&
    cid=$(docker create drydock-e2e-probe:driver /probe) &&
    docker export "$cid" | tar -t | grep -x probe >/dev/null; then # not -q: under pipefail an early exit fails the pipe
    ok=0
  fi
  [[ -n ${cid:-} ]] && docker rm -f "$cid" >/dev/null 2>&1
  docker rmi -f drydock-e2e-probe:driver >/dev/null 2>&1 || true
  rm -rf "$probe"
  return $ok
}

# Every pid whose network namespace is ours: dockerd, containerd, the shims (container processes have
# their own netns and are found through the cgroup parent instead).
engine_pids() {
  { ip netns pids "$E2E_NETNS" 2>/dev/null || true
    cat /sys/fs/cgroup/pids/"$E2E_NETNS"/cgroup.procs /sys/fs/cgroup/pids/"$E2E_NETNS"/*/cgroup.procs 2>/dev/null || true
  } | sort -u
}

engine_stop() {
  local dir="" pid i
  dir=$(engine_dir) || dir=""
  if [[ -n $dir && -f $dir/docker.pid ]]; then
    pid=$(cat "$dir/docker.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for ((i = 0; i < 40; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
      done
    fi
  fi
  # Whatever survived (a killed dockerd leaves containerd, shims and containers): kill it by
  # namespace and cgroup, never by name, so another engine on this machine is untouched.
  for ((i = 0; i < 3; i++)); do
    local pids
    pids=$(engine_pids)
    [[ -z $pids ]] && break
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.5
  done
  if [[ -n $dir && -d $dir ]]; then
    # The engine mounts shm, netns handles and container rootfs under its own dirs; deepest first.
    local mnt
    while read -r mnt; do
      umount -l "$mnt" 2>/dev/null || true
    done < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
    rm -rf --one-file-system "$dir" || e2e_log "could not remove $dir entirely"
  fi
  rmdir /sys/fs/cgroup/*/"$E2E_NETNS"/* /sys/fs/cgroup/*/"$E2E_NETNS" 2>/dev/null || true
  if ip netns list | grep -qx "$E2E_NETNS\( (id: [0-9]*)\)\?"; then
    ip netns delete "$E2E_NETNS" || e2e_log "could not delete netns $E2E_NETNS"
  fi
  rm -f "$E2E_STATE"
}

engine_logs() {
  local dir
  dir=$(engine_dir) && [[ -f $dir/dockerd.log ]] && cat "$dir/dockerd.log"
}

# The base image, built from Debian packages because no container registry is reachable.
engine_image() {
  local dir
  dir=$(engine_dir) || { e2e_log "start the engine first"; return 1; }
  export DOCKER_HOST=unix://$dir/docker.sock
  local key tar mirror
  key=$(printf '%s bookworm minbase' "$E2E_PACKAGES" | sha256sum | cut -c1-16)
  # An engine kept between runs (DRYDOCK_E2E_KEEP) may hold a base from another package list:
  # the engine's dir records which rootfs its base came from, and another one is imported anew.
  if docker image inspect "$E2E_BASE_IMAGE" >/dev/null 2>&1 && [[ $(cat "$dir/base-image.key" 2>/dev/null) == "$key" ]]; then return 0; fi
  tar=$E2E_CACHE/rootfs-$key.tar
  if [[ ! -s $tar ]]; then
    mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    mirror=${mirror:-${DRYDOCK_E2E_MIRROR:-http://deb.debian.org/debian}}
    e2e_log "debootstrap bookworm ($E2E_PACKAGES) from $mirror (about a minute, cached afterwards)"
    local rootfs=$dir/rootfs
    debootstrap --variant=minbase --include="$E2E_PACKAGES" bookworm "$rootfs" "$mirror" >"$dir/debootstrap.log" 2>&1 || {
      tail -n 30 "$dir/debootstrap.log" >&2
      return 1
    }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    mkdir -p "$E2E_CACHE"
    tar -C "$rootfs" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
    rm -rf --one-file-system "$rootfs"
  fi
  # Images built FROM another base would outlive it: drydock's own (the sidecar's template digest
  # does not see the base) and the agent tier's.
  docker image rm -f drydock-egress:latest drydock-agent:latest drydock-e2e-agent-base:latest >/dev/null 2>&1 || true
  docker import "$tar" "$E2E_BASE_IMAGE" >/dev/null
  printf '%s\n' "$key" >"$dir/base-image.key"
  e2e_log "imported $E2E_BASE_IMAGE from $tar"
}

# Claude Code's native binary, from npm into the cache (once per version); prints its path.
engine_claude_code() {
  local dir=$E2E_CACHE/claude-code-$E2E_CLAUDE_CODE_VERSION bin
  bin=$dir/node_modules/@anthropic-ai/claude-code-linux-x64/claude
  if [[ ! -x $bin ]]; then
    e2e_log "installing @anthropic-ai/claude-code@$E2E_CLAUDE_CODE_VERSION from npm into $dir"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-fund --no-audit --no-save "@anthropic-ai/claude-code@$E2E_CLAUDE_CODE_VERSION" >&2
  fi
  [[ -x $bin ]] || { e2e_log "no native claude binary at $bin"; return 1; }
  printf '%s\n' "$bin"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  case ${1:-} in
    start) engine_start ;;
    stop) engine_stop ;;
    image) engine_image ;;
    logs) engine_logs ;;
    env) engine_env ;;
    claude-code) engine_claude_code ;;
    *) echo "usage: $0 start|image|stop|logs|env|claude-code" >&2; exit 2 ;;
  esac
fi
