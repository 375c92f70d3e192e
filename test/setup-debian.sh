#!/usr/bin/env bash
# Installs the Debian packages the test tiers use: tinyproxy (integration tier: the real proxy),
# docker-compose v1 (render tests run `docker-compose config`), docker.io + debootstrap + iproute2
# (end-to-end tier: a real engine in its own network namespace). Idempotent: does nothing when all
# are present. Needs root (or sudo) the first time.
set -euo pipefail

need=()
command -v tinyproxy >/dev/null 2>&1 || need+=(tinyproxy)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
# The agent tier: the interactive Claude Code session runs under tmux; the test CA and the SSH
# client key are made with openssl and ssh-keygen.
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
if [ "${#need[@]}" -eq 0 ]; then
  echo "setup-debian: all test packages present"
  exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then as_root=(sudo); else
    echo "setup-debian: need root to install: ${need[*]} (run as root or install sudo)" >&2
    exit 2
  fi
fi
echo "setup-debian: installing ${need[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
