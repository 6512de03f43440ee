#!/usr/bin/env bash
# bench/bodies.sh: our clients side by side on the bodies where a lean client
# can lose to net/http: a 300 KB body, and small chunked responses. Runs
# bench/peers.sh on each target with wrk beside ours.
#
#   bench/bodies.sh [SECONDS] [CONNECTIONS] [ROUNDS]
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
for flags in "-size 300000" "-chunked"; do
  TARGET_FLAGS=$flags PEERS=${PEERS-wrk} bench/peers.sh "${1:-4}" "${2:-20}" "${3:-3}"
  echo
done
