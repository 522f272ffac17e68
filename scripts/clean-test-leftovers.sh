#!/usr/bin/env bash
# Removes containers, networks and volumes that earlier test or bench runs left behind (compose
# projects and names start with rehearse-test- or rehearse-bench-), so a re-run starts clean.
set -euo pipefail
for prefix in rehearse-test- rehearse-bench-; do
  ids=$(docker ps -aq --filter "name=$prefix")
  [ -n "$ids" ] && docker rm -f $ids >/dev/null
  for net in $(docker network ls -q --filter "name=$prefix"); do docker network rm "$net" >/dev/null || true; done
  for vol in $(docker volume ls -q --filter "name=$prefix"); do docker volume rm -f "$vol" >/dev/null || true; done
done
echo "[clean] done" >&2
