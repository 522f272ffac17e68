#!/usr/bin/env bash
# Removes containers, networks and volumes that earlier test runs left behind (they carry the
# dev.rehearse.test label, or a rehearse-test-* compose project), so a re-run starts clean.
set -euo pipefail
ids=$(docker ps -aq --filter label=dev.rehearse.test=true; docker ps -aq --filter name=rehearse-test-)
[ -n "$ids" ] && docker rm -f $ids >/dev/null || true
for net in $(docker network ls -q --filter name=rehearse-test-); do docker network rm "$net" >/dev/null || true; done
for vol in $(docker volume ls -q --filter name=rehearse-test-); do docker volume rm -f "$vol" >/dev/null || true; done
echo "[clean] done" >&2
