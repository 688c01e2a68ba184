#!/usr/bin/env bash
# Resident memory of the gateway against the number of threads doing pipeline work
# (numbers, not verdicts; loopback only).
#
#   benches/rss.sh [THREADS...]        default: 2 8 32
#   BIN=path/to/lienthong benches/rss.sh   another build (e.g. an older commit's) to compare
#   LOADGEN=path benches/rss.sh            a load generator already built (skips the builds)
#
# For each N: a fresh gateway with the example contracts of conf/gateway.toml, tokio's
# worker count set to N (TOKIO_WORKER_THREADS), then signed calls over N connections to every
# example service whose schemas the pipeline compiles (ho-tich, dang-ky-kinh-doanh, and
# tiep-nhan-ho-so with its two mappings), so that N blocking-pool threads validate at once.
# Prints RSS idle (after start-up) and after the load, with the process's thread count.
# Schemas are compiled once at load and shared, so RSS should not grow with N beyond a small
# per-thread constant (thread stacks, libxml2's per-thread state).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=("$@")
[ "${#THREADS[@]}" -gt 0 ] || THREADS=(2 8 32)
REQUESTS=${REQUESTS:-2000}
if [ -z "${LOADGEN:-}" ]; then
  cargo build --release -q
  cargo bench --bench loadgen --no-run -q 2>/dev/null || cargo bench --bench loadgen --no-run
  LOADGEN=$(ls -t target/release/deps/loadgen-* | grep -v '\.d$' | head -1)
fi
BIN=${BIN:-$PWD/target/release/lienthong}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

wait_addr() { # FILE MARKER -> host:port printed after MARKER
  for _ in $(seq 1 300); do grep -q "$2" "$1" 2>/dev/null && break; sleep 0.1; done
  grep "$2" "$1" | grep -o 'http://[0-9.:]*' | head -1 | sed 's#http://##'
}
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
threads() { awk '/^Threads/ { print $2 }' "/proc/$1/status"; }

$BIN provider --listen 127.0.0.1:0 >"$WORK/provider.out" 2>"$WORK/provider.log" &
PROVIDER=$(wait_addr "$WORK/provider.out" "example providers on")
conf=$PWD/conf
sed -e "s#127.0.0.1:9100#$PROVIDER#" \
    -e "s#^\(\s*\(wsdl\|catalog\|request\|response\)\s*=\s*\"\)\([^/]\)#\1$conf/\3#" \
    conf/gateway.toml >"$WORK/gateway.toml"
$BIN pki init --config "$WORK/gateway.toml" --data-dir "$WORK/data" >/dev/null 2>&1

echo "binary: $BIN; $REQUESTS signed requests per service and thread count; $(nproc) cores"
printf '%-8s %-12s %-12s %-14s %s\n' threads "RSS idle" "RSS loaded" "OS threads" "per extra thread"
first_loaded=""
first_n=""
for n in "${THREADS[@]}"; do
  rm -f "$WORK/data/audit.db"*
  TOKIO_WORKER_THREADS=$n RUST_LOG=warn $BIN serve --config "$WORK/gateway.toml" --data-dir "$WORK/data" \
    --listen 127.0.0.1:0 >"$WORK/gw.out" 2>"$WORK/gw.log" &
  GW_PID=$!
  GATEWAY=$(wait_addr "$WORK/gw.out" "listening on")
  idle=$(rss "$GW_PID")
  for call in "ho-tich conf/examples/ho-tich-TraCuuKhaiSinh.xml 000.00.00.H38" \
              "dang-ky-kinh-doanh conf/examples/dang-ky-kinh-doanh-TraCuuDoanhNghiep.xml 000.00.00.H38" \
              "tiep-nhan-ho-so conf/mappings/ho-so-huyen-tinh/tests/day-du/input.xml 000.00.21.H38"; do
    set -- $call
    $LOADGEN --url "http://$GATEWAY/services/$1" --payload "$2" --sign-as "$3" --data-dir "$WORK/data" \
      --requests "$REQUESTS" --connections "$n" >"$WORK/load-$1.out" 2>&1
  done
  loaded=$(rss "$GW_PID")
  per=""
  if [ -n "$first_loaded" ] && [ "$n" -gt "$first_n" ]; then
    per=$(( (loaded - first_loaded) / (n - first_n) ))" KiB"
  else
    first_loaded=$loaded first_n=$n
  fi
  printf '%-8s %-12s %-12s %-14s %s\n' "$n" "$((idle / 1024)) MiB" "$((loaded / 1024)) MiB" "$(threads "$GW_PID")" "$per"
  grep -h "req/s" "$WORK"/load-*.out | sed 's/^/    /'
  kill "$GW_PID"; wait "$GW_PID" 2>/dev/null || true
done
