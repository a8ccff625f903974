#!/usr/bin/env bash
# Makes sure a real Docker engine and the other system tools the tests use are here and running:
# Debian's docker.io (started with the vfs storage driver, which works inside unprivileged
# sandboxes), docker-registry (the shared-cache tests start their own instances), busybox-static
# (fixture images), apache2-utils (htpasswd), git-lfs, tmux (the terminal tests read its screen).
# Fails loudly when something cannot be had.
#
# Also a second engine for the tests that spread a build over several engines: its own dockerd
# (own --data-root, --exec-root, socket and pidfile; vfs, no iptables, no bridge) and a docker
# context `triton-build-engine2` for it. Idempotent: what runs already is left as it is.
set -euo pipefail

log() { printf 'setup-docker: %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

ENGINE2=triton-build-engine2
ENGINE2_SOCKET=/var/run/$ENGINE2.sock

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

# wait_for_engine DOCKER-ARGS...: up to 60 s for `docker ARGS info` to answer.
wait_for_engine() {
  for _ in $(seq 1 120); do
    if docker "$@" info >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  return 1
}

first_engine() {
  if docker info >/dev/null 2>&1; then
    log "docker engine already running: $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
    return
  fi
  [ "$(id -u)" -eq 0 ] || die "the Docker engine is not running and starting dockerd needs root"
  log "starting dockerd (vfs storage driver)"
  mkdir -p /var/lib/docker /var/log
  # setsid: the daemon must outlive this script and not get the test run's Ctrl-C.
  setsid dockerd --storage-driver=vfs --iptables=false --bridge=none >/var/log/triton-build-dockerd.log 2>&1 </dev/null &
  if ! wait_for_engine; then
    tail -n 30 /var/log/triton-build-dockerd.log >&2 || true
    die "dockerd did not become reachable within 60 s (log above: /var/log/triton-build-dockerd.log)"
  fi
  log "docker engine up: $(docker version --format '{{.Server.Version}}')"
}

second_engine() {
  if ! docker -H "unix://$ENGINE2_SOCKET" info >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || die "the second Docker engine ($ENGINE2) is not running and starting dockerd needs root"
    log "starting the second engine $ENGINE2 (vfs storage driver, socket $ENGINE2_SOCKET)"
    mkdir -p "/var/lib/$ENGINE2" "/var/run/$ENGINE2" /var/log
    setsid dockerd --data-root "/var/lib/$ENGINE2" --exec-root "/var/run/$ENGINE2" -H "unix://$ENGINE2_SOCKET" \
      --pidfile "/var/run/$ENGINE2.pid" --storage-driver=vfs --iptables=false --bridge=none \
      >>"/var/log/$ENGINE2.log" 2>&1 </dev/null &
    if ! wait_for_engine -H "unix://$ENGINE2_SOCKET"; then
      tail -n 30 "/var/log/$ENGINE2.log" >&2 || true
      die "the second dockerd did not become reachable within 60 s (log above: /var/log/$ENGINE2.log)"
    fi
  fi
  local endpoint
  endpoint=$(docker context inspect "$ENGINE2" --format '{{.Endpoints.docker.Host}}' 2>/dev/null || true)
  if [ -z "$endpoint" ]; then
    docker context create "$ENGINE2" --description "second engine for the triton-build tests" --docker "host=unix://$ENGINE2_SOCKET" >/dev/null ||
      die "docker context create $ENGINE2"
  elif [ "$endpoint" != "unix://$ENGINE2_SOCKET" ]; then
    die "docker context $ENGINE2 points at $endpoint, not unix://$ENGINE2_SOCKET; remove it (docker context rm $ENGINE2) and run again"
  fi
  docker --context "$ENGINE2" info >/dev/null 2>&1 || die "docker --context $ENGINE2 info fails"
  log "second engine up: context $ENGINE2 -> unix://$ENGINE2_SOCKET"
}

first_engine
second_engine
