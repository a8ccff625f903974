#!/usr/bin/env bash
# Makes sure a real Docker engine and the other system tools the tests use are here and running:
# Debian's docker.io (started with the vfs storage driver, which works inside unprivileged
# sandboxes), docker-registry (the shared-cache tests start their own instances), busybox-static
# (fixture images), apache2-utils (htpasswd), git-lfs, tmux (the terminal tests read its screen).
# Fails loudly when something cannot be had.
set -euo pipefail

log() { printf 'setup-docker: %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

need_packages=()
command -v dockerd >/dev/null 2>&1 || need_packages+=(docker.io)
command -v docker-registry >/dev/null 2>&1 || need_packages+=(docker-registry)
[ -x /usr/bin/busybox ] || need_packages+=(busybox-static)
command -v htpasswd >/dev/null 2>&1 || need_packages+=(apache2-utils)
command -v git-lfs >/dev/null 2>&1 || need_packages+=(git-lfs)
command -v gcc >/dev/null 2>&1 || need_packages+=(gcc)
command -v tmux >/dev/null 2>&1 || need_packages+=(tmux)

if [ ${#need_packages[@]} -gt 0 ]; then
  log "installing ${need_packages[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq || die "apt-get update"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_packages[@]}" >/dev/null || die "apt-get install ${need_packages[*]}"
fi

if docker info >/dev/null 2>&1; then
  log "docker engine already running: $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || die "the Docker engine is not running and starting dockerd needs root"
log "starting dockerd (vfs storage driver)"
mkdir -p /var/lib/docker /var/log
# setsid: the daemon must outlive this script and not get the test run's Ctrl-C.
setsid dockerd --storage-driver=vfs --iptables=false --bridge=none >/var/log/triton-build-dockerd.log 2>&1 < /dev/null &
for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then
    log "docker engine up: $(docker version --format '{{.Server.Version}}')"
    exit 0
  fi
  sleep 0.5
done
tail -n 30 /var/log/triton-build-dockerd.log >&2 || true
die "dockerd did not become reachable within 60 s (log above: /var/log/triton-build-dockerd.log)"
