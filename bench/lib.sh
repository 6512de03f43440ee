# bench/lib.sh: what the scripts of bench/ share. Sourced from the project's
# root; sets WORK (a temporary directory removed at exit), PORT and URL.

WORK=$(mktemp -d)
PORT=$((20000 + RANDOM % 20000))
URL="http://127.0.0.1:$PORT/"
TARGET_PID=
trap '[ -n "$TARGET_PID" ] && kill "$TARGET_PID" 2>/dev/null; rm -rf "$WORK"' EXIT

# peer_path NAME: where the peer's command is.
peer_path() {
  command -v "$1" 2>/dev/null || echo "$(go env GOPATH)/bin/$1"
}

# need_peer NAME: installs a peer that is missing (Debian's wrk and hey, the
# Go module of bombardier and vegeta at a fixed version).
need_peer() {
  [ -x "$(peer_path "$1")" ] && return
  case $1 in
    wrk | hey) apt-get update -qq && apt-get install -y -qq "$1" >/dev/null ;;
    bombardier) GOFLAGS= go install github.com/codesenberg/bombardier@v1.2.6 ;;
    vegeta) GOFLAGS= go install github.com/tsenart/vegeta/v12@v12.13.0 ;;
  esac || { echo "bench: could not install $1"; exit 1; }
}

need_time() {
  [ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; } || { echo "bench: could not install time"; exit 1; }
}

# start_target MAXSECONDS FLAGS...: builds and starts ./bench/target on PORT.
start_target() {
  local max=$1; shift
  go build -o "$WORK/target" ./bench/target || exit 1
  "$WORK/target" -port "$PORT" -max-run "${max}s" "$@" 2>/dev/null &
  TARGET_PID=$!
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return
    sleep 0.1
  done
  echo "bench: the target did not start"; exit 1
}

build_ours() {
  go test -c -o "$WORK/scenario.test" ./scenario || exit 1
}

# column_median NAME COLUMN: the median of COLUMN over NAME's rows.
column_median() {
  awk -v n="$1" -v c="$2" '$1 == n {print $c}' "$WORK/rows" | sort -n | awk '{v[NR] = $1} END {if (NR) print v[int((NR+1)/2)]}'
}
