#!/usr/bin/env bash
# Builds the local stand-in images (test/images/*) from a Debian 12 base made with debootstrap,
# for machines that cannot pull from a registry. Idempotent: an image whose Dockerfile folder is
# unchanged (content hash in a label) is not rebuilt, so a second run takes a second or two.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[images] %s\n' "$*" >&2; }
BASE=rehearse-local/base:bookworm

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null 2>&1 || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  root=$(mktemp -d)
  log "bootstrapping Debian bookworm into $root"
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/tmp/rehearse-debootstrap.log 2>&1 \
    || { tail -20 /tmp/rehearse-debootstrap.log >&2; exit 1; }
  tar -C "$root" -c . | docker import - "$BASE" >/dev/null
  rm -rf "$root"
  log "built $BASE"
fi

# name:tag of each stand-in, by folder under test/images.
declare -A TAGS=(
  [postgres]=rehearse-local/postgres:15
  [redis]=rehearse-local/redis:7
  [nginx]=rehearse-local/nginx:1
  [node]=rehearse-local/node:bookworm
  [prometheus]=rehearse-local/prometheus:2
  [postgres-exporter]=rehearse-local/postgres-exporter:0
  [redis-exporter]=rehearse-local/redis-exporter:1
  [nginx-exporter]=rehearse-local/nginx-exporter:0
  [pgadmin]=rehearse-local/pgadmin:8
)
for dir in postgres redis nginx node prometheus postgres-exporter redis-exporter nginx-exporter pgadmin; do
  tag=${TAGS[$dir]}
  hash=$(cd "test/images/$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  have=$(docker image inspect -f '{{index .Config.Labels "rehearse.source-hash"}}' "$tag" 2>/dev/null || true)
  if [ "$have" = "$hash" ]; then log "$tag is up to date"; continue; fi
  log "building $tag"
  start=$(date +%s)
  docker build -q --label "rehearse.source-hash=$hash" -t "$tag" "test/images/$dir" >/dev/null
  log "built $tag in $(( $(date +%s) - start )) s"
done
