#!/usr/bin/env bash
# Makes sure a Docker engine and the Compose v2 plugin are available on this machine.
# Idempotent: does nothing that is already done. Debian 12 only (see shared test-bed notes).
set -euo pipefail

log() { printf '[docker-engine] %s\n' "$*" >&2; }

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

if ! command -v dockerd >/dev/null 2>&1; then
  log "installing docker.io from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

if ! engine_answers; then
  log "starting dockerd"
  # A stale pid file from an earlier, killed session stops dockerd from starting.
  rm -f /var/run/docker.pid /run/docker/containerd/containerd.pid 2>/dev/null || true
  setsid dockerd >/var/log/dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    engine_answers && break
    sleep 1
  done
  engine_answers || { log "dockerd did not answer within 60 s; see /var/log/dockerd.log"; tail -20 /var/log/dockerd.log >&2; exit 1; }
fi
log "engine: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"

if ! docker compose version >/dev/null 2>&1; then
  log "fetching Compose v2 from Debian trixie (docker-compose package, CLI plugin)"
  work=$(mktemp -d)
  mkdir -p "$work/lists/partial" "$work/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" > "$work/sources.list"
  apt_opts=(-oDir::Etc::SourceList="$work/sources.list" -oDir::Etc::SourceParts=/dev/null
            -oDir::State::Lists="$work/lists" -oDir::Cache::Archives="$work/archives" -qq)
  apt-get "${apt_opts[@]}" update
  (cd "$work" && apt-get "${apt_opts[@]}" download docker-compose)
  dpkg -x "$work"/docker-compose_*.deb "$work/x"
  mkdir -p "$HOME/.docker/cli-plugins"
  install -m 0755 "$work/x/usr/libexec/docker/cli-plugins/docker-compose" "$HOME/.docker/cli-plugins/docker-compose"
  rm -rf "$work"
fi
log "compose: $(docker compose version --short)"
