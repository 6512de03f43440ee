#!/usr/bin/env bash
# bench/peers-open.sh: the open model beside vegeta. One loopback target
# (./bench/target) answering after DELAY; vegeta and our BenchmarkOpenHTTP
# each send RATE requests/s for SECONDS, in turn, ROUNDS times, under
# /usr/bin/time. Prints the medians of the requests sent, the p99 latency,
# the generator's CPU-seconds per million requests and its peak RSS.
#
#   bench/peers-open.sh [RATE] [SECONDS] [ROUNDS] [DELAY]
#
# Environment:
#   STAMPEDE_BENCH_CLIENT  the Client.Engine of ours: auto (the default), wire or nethttp
#
# Ours is BenchmarkOpenHTTP in ./scenario (ConstantRate, MaxVUs 5000), which
# reports "sent", "dropped", "p99-ms" (from each request's due time) and
# "lag-p99-us" (the schedule's lag). vegeta's latency is timed from when it
# sent, ours from when the request was due.
set -uo pipefail
RATE=${1:-8000}; SECS=${2:-10}; ROUNDS=${3:-3}; DELAY=${4:-10ms}
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
# shellcheck source=bench/lib.sh
. bench/lib.sh

need_peer vegeta
need_time
start_target $((ROUNDS * SECS * 3 + 60)) -delay "$DELAY"
build_ours

# row NAME SENT P99MS: appends "NAME sent p99ms cpu-per-1M rssMB" from $WORK/time.
row() {
  read -r u s e m <"$WORK/time"
  awk -v n="$1" -v c="$2" -v p="$3" -v u="$u" -v s="$s" -v m="$m" \
    'BEGIN{if (c > 0) printf "%s %d %.2f %.1f %.0f\n", n, c, p, (u+s)/c*1e6, m/1024}' >>"$WORK/rows"
}

for ((i = 1; i <= ROUNDS; i++)); do
  echo "GET $URL" | /usr/bin/time -f '%U %S %e %M' -o "$WORK/time" \
    "$(peer_path vegeta)" attack -rate="$RATE" -duration="${SECS}s" -max-workers=5000 >"$WORK/veg.bin" 2>/dev/null
  "$(peer_path vegeta)" report -type=json <"$WORK/veg.bin" >"$WORK/veg.json"
  sent=$(grep -o '"requests":[0-9]*' "$WORK/veg.json" | head -1 | cut -d: -f2)
  p99=$(grep -o '"99th":[0-9]*' "$WORK/veg.json" | head -1 | cut -d: -f2)
  row vegeta "${sent:-0}" "$(awk -v x="${p99:-0}" 'BEGIN{print x/1e6}')"

  STAMPEDE_BENCH_URL=$URL STAMPEDE_BENCH_RATE=$RATE STAMPEDE_BENCH_SECONDS=$SECS \
    /usr/bin/time -f '%U %S %e %M' -o "$WORK/time" "$WORK/scenario.test" -test.run '^$' \
    -test.bench '^BenchmarkOpenHTTP$' -test.benchtime 1x >"$WORK/out" 2>&1
  line=$(grep '^BenchmarkOpenHTTP' "$WORK/out" | tail -1)
  if [ -z "$line" ]; then echo "BenchmarkOpenHTTP gave no figure:"; tail -5 "$WORK/out"; continue; fi
  get() { echo "$line" | awk -v u="$1" '{for (i = 2; i <= NF; i++) if ($i == u) {print $(i-1); exit}}'; }
  row stampede "$(get sent)" "$(get p99-ms)"
  echo "round $i: stampede dropped $(get dropped), schedule lag p99 $(get lag-p99-us) µs, generator's delay p99 $(get gen-p99-ms) ms"
done

echo "tool       sent      p99 ms   cpu-s per 1M   RSS MB   [medians of $ROUNDS rounds, $RATE/s for ${SECS}s, target $DELAY, client ${STAMPEDE_BENCH_CLIENT:-auto}]"
for n in vegeta stampede; do
  printf "%-9s" "$n"
  for col in 2 3 4 5; do printf " %10s" "$(column_median "$n" "$col")"; done
  echo
done
