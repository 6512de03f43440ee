#!/usr/bin/env bash
# bench/peers.sh: the closed model beside wrk, bombardier and hey. One
# loopback target (./bench/target), each tool in turn for SECONDS with
# CONNECTIONS connections, ROUNDS times, each under /usr/bin/time. Prints the
# median requests/s and generator CPU-seconds per million requests (on a small
# machine the generator and the target share the cores, so CPU per request is
# the fair figure), then our ratios.
#
#   bench/peers.sh [SECONDS] [CONNECTIONS] [ROUNDS]
#
# Environment:
#   TARGET_FLAGS  flags of ./bench/target (e.g. "-size 300000" or "-chunked")
#   PEERS         the peers to run beside ours (default "wrk bombardier hey"; "" for none)
#   CLIENTS       our sub-benchmarks of BenchmarkHTTPStep to run (default: all of them)
#
# Ours is BenchmarkHTTPStep in ./scenario: STAMPEDE_BENCH_URL is the target,
# STAMPEDE_BENCH_VUS the VUs, and each of its sub-benchmarks (one per client)
# runs in a process of its own and gets a row of its own.
set -uo pipefail
SECS=${1:-8}; CONC=${2:-50}; ROUNDS=${3:-3}
PEERS=${PEERS-wrk bombardier hey}
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
# shellcheck source=bench/lib.sh
. bench/lib.sh

for p in $PEERS; do need_peer "$p"; done
need_time
start_target $((ROUNDS * SECS * 8 + 60)) ${TARGET_FLAGS:-}
build_ours

subs=${CLIENTS:-$(STAMPEDE_BENCH_URL=$URL STAMPEDE_BENCH_VUS=2 "$WORK/scenario.test" -test.run '^$' \
  -test.bench '^BenchmarkHTTPStep$' -test.benchtime 1x 2>/dev/null |
  awk '/^BenchmarkHTTPStep\//{n=$1; sub(/^BenchmarkHTTPStep\//,"",n); sub(/-[0-9]+$/,"",n); print n}' | sort -u)}

# measure NAME CMD...: runs CMD under /usr/bin/time, appends "NAME req/s cpu-per-1M".
measure() {
  local name=$1 rps; shift
  /usr/bin/time -f '%U %S %e' -o "$WORK/time" "$@" >"$WORK/out" 2>&1
  read -r u s e <"$WORK/time"
  case $name in
    wrk | hey) rps=$(awk '/Requests\/sec/{print $2}' "$WORK/out") ;;
    bombardier) rps=$(awk '/Reqs\/sec/{print $2}' "$WORK/out") ;;
    *) rps=$(awk '/^BenchmarkHTTPStep/{for (i = 2; i <= NF; i++) if ($i == "req/s") print $(i-1)}' "$WORK/out" | tail -1) ;;
  esac
  if [ -z "$rps" ]; then echo "$name gave no figure:"; tail -5 "$WORK/out"; return; fi
  awk -v n="$name" -v r="$rps" -v u="$u" -v s="$s" -v e="$e" 'BEGIN{printf "%s %.0f %.1f\n", n, r, (u+s)/(r*e)*1e6}' >>"$WORK/rows"
}

names=""
for ((i = 1; i <= ROUNDS; i++)); do
  for p in $PEERS; do
    case $p in
      wrk) measure wrk wrk -t2 -c"$CONC" -d"${SECS}s" "$URL" ;;
      bombardier) measure bombardier "$(peer_path bombardier)" -c "$CONC" -d "${SECS}s" -p r "$URL" ;;
      hey) measure hey hey -z "${SECS}s" -c "$CONC" "$URL" ;;
    esac
  done
  for s in $subs; do
    STAMPEDE_BENCH_URL=$URL STAMPEDE_BENCH_VUS=$CONC measure "stampede/$s" "$WORK/scenario.test" \
      -test.run '^$' -test.bench "^BenchmarkHTTPStep\$/^$s\$" -test.benchtime "${SECS}s"
  done
done
for p in $PEERS; do names="$names $p"; done
for s in $subs; do names="$names stampede/$s"; done

echo "tool              req/s(median)  cpu-s per 1M requests(median)   [$ROUNDS rounds, ${SECS}s, $CONC connections${TARGET_FLAGS:+, target $TARGET_FLAGS}]"
declare -A R
for n in $names; do
  r=$(column_median "$n" 2); c=$(column_median "$n" 3)
  printf "%-17s %13s  %12s\n" "$n" "${r:-none}" "${c:-none}"
  R[$n]=${r:-0}
done
for n in $names; do
  case $n in stampede/*)
    line="$n:"
    for p in $PEERS; do
      line="$line $(awk -v a="${R[$n]}" -v b="${R[$p]:-0}" 'BEGIN{if (b > 0) printf "%.2fx", a/b; else printf "-"}') $p,"
    done
    [ -n "$PEERS" ] && echo "${line%,} req/s" ;;
  esac
done
# Each round's figures: a claim about "k of n runs" is read from these.
for n in $names; do
  awk -v n="$n" '$1 == n {s = s "  " $2 " / " $3} END {if (s != "") printf "%-17s by round (req/s / cpu-s per 1M):%s\n", n, s}' "$WORK/rows"
done
