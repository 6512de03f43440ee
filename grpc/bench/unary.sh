#!/usr/bin/env bash
# unary.sh: a unary gRPC call on loopback from three generators, side by
# side and interleaved, each in its own process under /usr/bin/time: the
# gRPC step (BenchmarkUnary/step), a plain loop of the same generated stub
# (BenchmarkUnary/plain), and ghz. Each makes CALLS calls with CONCURRENCY
# callers over CONNS shared connections to one target process (the interop
# test service's EmptyCall). Prints, per generator, the median requests/s
# and CPU microseconds per call (the generator's user + system time over
# its calls: the fair figure where generator and target share the cores),
# and the step's ratios to the others.
#
# Usage (from the repository's root or grpc/): grpc/bench/unary.sh [CALLS] [CONCURRENCY] [CONNS] [ROUNDS]
set -uo pipefail
CALLS=${1:-200000}; CONC=${2:-50}; CONNS=${3:-1}; ROUNDS=${4:-3}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MOD=$(cd "$HERE/.." && pwd)
WORK=$(mktemp -d)
PORT=$((20000 + RANDOM % 20000))

[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; } || exit 1
GHZ=$(command -v ghz || echo "$WORK/bin/ghz")
[ -x "$GHZ" ] || GOFLAGS= GOBIN="$WORK/bin" go install github.com/bojand/ghz/cmd/ghz@v0.120.0 || exit 1

(cd "$MOD" && go build -o "$WORK/target" ./bench/target && go test -c -o "$WORK/grpc.test" .) || exit 1
"$WORK/target" -port "$PORT" -max-run "$((ROUNDS * 300 + 60))s" 2>/dev/null &
TPID=$!
trap 'kill $TPID 2>/dev/null; rm -rf "$WORK"' EXIT
sleep 0.5

# run NAME CMD... : appends "NAME rps cpu_us_per_call" to $WORK/rows
run() {
  local name=$1; shift
  /usr/bin/time -f '%U %S %e' -o "$WORK/time" "$@" >"$WORK/out" 2>&1
  read -r u s e <"$WORK/time"
  local rps
  case $name in
    ghz) rps=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["rps"] if d.get("statusCodeDistribution",{}).get("OK")==d["count"] else "")' "$WORK/out" 2>/dev/null) ;;
    *) rps=$(awk '/^BenchmarkUnary\//{for(i=2;i<=NF;i++) if($i=="req/s") print $(i-1)}' "$WORK/out" | tail -1) ;;
  esac
  if [ -z "$rps" ]; then echo "$name produced no figure:"; tail -5 "$WORK/out"; return; fi
  awk -v n="$name" -v r="$rps" -v u="$u" -v s="$s" -v c="$CALLS" 'BEGIN{printf "%s %.0f %.2f\n", n, r, (u+s)/c*1e6}' >>"$WORK/rows"
}

ours() { # ours NAME SUB
  STAMPEDE_BENCH_GRPC=127.0.0.1:$PORT STAMPEDE_BENCH_VUS=$CONC STAMPEDE_BENCH_CONNS=$CONNS \
    run "$1" "$WORK/grpc.test" -test.run '^$' -test.bench "^BenchmarkUnary/$2\$" -test.benchtime "${CALLS}x"
}

echo "unary EmptyCall, $CALLS calls, $CONC callers, $CONNS connection(s), $ROUNDS rounds, $(nproc) cores shared with the target"
for ((r = 1; r <= ROUNDS; r++)); do
  ours step step
  ours plain plain
  run ghz "$GHZ" --insecure --call grpc.testing.TestService/EmptyCall -d '{}' -n "$CALLS" -c "$CONC" \
    --connections "$CONNS" --format json "127.0.0.1:$PORT"
done

python3 - "$WORK/rows" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    n, r, c = line.split()
    rows.setdefault(n, []).append((float(r), float(c)))
med = {n: (statistics.median(r for r, _ in v), statistics.median(c for _, c in v)) for n, v in rows.items()}
print(f"{'generator':<10} {'req/s':>9} {'CPU us/call':>12}   (medians; every round: CPU us/call)")
for n in ("step", "plain", "ghz"):
    if n in med:
        print(f"{n:<10} {med[n][0]:>9.0f} {med[n][1]:>12.2f}   {' '.join(f'{c:.2f}' for _, c in rows[n])}")
if "step" in med:
    for n in ("plain", "ghz"):
        if n in med:
            print(f"step / {n}: CPU per call {med['step'][1] / med[n][1]:.2f}x, req/s {med['step'][0] / med[n][0]:.2f}x")
PY
