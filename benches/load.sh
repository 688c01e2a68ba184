#!/usr/bin/env bash
# Load test of the running release binary (numbers, not verdicts; loopback only).
#
#   benches/load.sh plain  [REQUESTS] [CONNECTIONS]   pass-through without WS-Security, XSD
#                                                     validation and audit on (SQLite), 2 KB
#                                                     request, through the gateway, direct, and
#                                                     through a do-nothing proxy (benches/bare_proxy.rs)
#   benches/load.sh signed [REQUESTS] [CONNECTIONS]   pre-signed unique requests: verify +
#                                                     authorise + forward signed + signed answer
#                                                     + audit, gateway pinned to core 0, load
#                                                     generator and providers on core 1, next
#                                                     to `openssl speed rsa2048` on core 0
#   AUDIT_MESSAGES=hash-only benches/load.sh ...      the same with digests only in the audit store
#   KEYS=p256 benches/load.sh signed ...              gateway and agency keys ECDSA P-256 instead of
#                                                     RSA-2048 (beside `openssl speed ecdsap256`)
#   AUDIT_PG=1 benches/load.sh ...                    the audit store in PostgreSQL (127.0.0.1:5432, a
#                                                     database made for the run and dropped after it)
#   VALIDATE=off benches/load.sh plain ...            the same without XSD validation (what it costs)
#   PIN=1 benches/load.sh plain ...                   gateway (and the bare proxy) on core 0, load
#                                                     generator and provider on core 1 in every run:
#                                                     the gateway on a CPU of its own, as on a host
#                                                     of its own in production
#   PERF=FILE benches/load.sh ...                     also samples the gateway with `perf record -g`
#                                                     into FILE while the load runs through it
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-plain}
REQUESTS=${2:-20000}
CONNS=${3:-64}
cargo build --release -q
cargo bench --bench loadgen --no-run -q 2>/dev/null || cargo bench --bench loadgen --no-run
cargo bench --bench bare_proxy --no-run -q 2>/dev/null || cargo bench --bench bare_proxy --no-run
BIN=$PWD/target/release/lienthong
LOADGEN=$(ls -t target/release/deps/loadgen-* | grep -v '\.d$' | head -1)
BARE=$(ls -t target/release/deps/bare_proxy-* | grep -v '\.d$' | head -1)
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
PIN_GW="" PIN_LOAD=""
if { [ "$MODE" = signed ] || [ -n "${PIN:-}" ]; } && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  PIN_GW="taskset -c 0" PIN_LOAD="taskset -c 1"
fi

wait_addr() { # FILE MARKER -> host:port printed after MARKER
  for _ in $(seq 1 200); do grep -q "$2" "$1" 2>/dev/null && break; sleep 0.1; done
  grep "$2" "$1" | grep -o 'http://[0-9.:]*' | head -1 | sed 's#http://##'
}

$PIN_LOAD $BIN provider --listen 127.0.0.1:0 >"$WORK/provider.out" 2>"$WORK/provider.log" &
PROVIDER=$(wait_addr "$WORK/provider.out" "example providers on")

python3 - "$WORK" "$PROVIDER" "$MODE" <<'PY'
import os, sys, re, pathlib
work, provider, mode = sys.argv[1:4]
conf = pathlib.Path("conf").resolve()
text = (conf / "gateway.toml").read_text().replace("127.0.0.1:9100", provider)
# Relative paths are resolved against the config's directory: make them absolute.
text = re.sub(r'^(\s*(wsdl|catalog|request|response)\s*=\s*")(?!/)', lambda m: m.group(1) + str(conf) + "/", text, flags=re.M)
if os.environ.get("AUDIT_MESSAGES"):
    # AUDIT_MESSAGES=hash-only: keep digests and sizes, not the messages themselves.
    text = re.sub(r'(?m)^messages = ".*"', 'messages = "%s"' % os.environ["AUDIT_MESSAGES"], text)
if mode == "plain":
    # Plain pass-through: no WS-Security either way (unsigned calls accepted, nothing
    # signed by the gateway); schema validation and the audit store stay on.
    validate = ""
    if os.environ.get("VALIDATE") == "off":
        # VALIDATE=off: no XSD validation either way (a service's own table is replaced).
        text = re.sub(r"(?m)^\[services\.validate\]\n(?:\w+ = \w+\n)*", "", text)
        validate = "\n[services.validate]\nrequest = false\nresponse = false\n"
    blocks = re.split(r"(?m)^\[\[services\]\]$", text)
    text = blocks[0] + "".join("[[services]]" + b.rstrip() + "\n[services.security]\ndangerous_accept_unsigned = true\nsign_forwarded = false\nsign_answers = false\n" + validate + "\n" for b in blocks[1:])
pathlib.Path(work, "gateway.toml").write_text(text)
PY
AUDIT_ARGS=() STORE="SQLite"
if [ -n "${AUDIT_PG:-}" ]; then
  PGDB=lienthong_load_$$
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $PGDB" >/dev/null
  trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null' EXIT
  AUDIT_ARGS=(--audit-db "postgres://postgres@127.0.0.1:5432/$PGDB") STORE="PostgreSQL"
fi
KEYS=${KEYS:-rsa2048}
$BIN pki init --key-type "$KEYS" --config "$WORK/gateway.toml" --data-dir "$WORK/data" >/dev/null 2>&1
RUST_LOG=warn $PIN_GW $BIN serve --config "$WORK/gateway.toml" --data-dir "$WORK/data" "${AUDIT_ARGS[@]}" --listen 127.0.0.1:0 >"$WORK/gw.out" 2>"$WORK/gw.log" &
GATEWAY=$(wait_addr "$WORK/gw.out" "listening on")
GW_PID=$!

# CPU seconds the gateway process has used (user + system): less noisy than req/s when
# the machine is shared, and what a capacity plan needs (CPU per exchange).
pid_secs() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
cpu_secs() { pid_secs "$GW_PID"; }
# PERF=FILE: sample the gateway's stacks while it is under load (software clock, so it works
# where the CPU's counters are not exposed).
perf_start() { [ -n "${PERF:-}" ] && { perf record -q -e cpu-clock -F 499 --call-graph dwarf,16384 -p "$GW_PID" -o "$PERF" 2>/dev/null & sleep 0.5; } || true; }
perf_stop() { [ -n "${PERF:-}" ] && { pkill -INT -f "perf record -q -e cpu-clock -F 499 --call-graph dwarf,16384 -p $GW_PID" || true; sleep 1; } || true; }
# CPU seconds of the audit writer thread alone (the rest is the tokio workers).
writer_secs() {
  for t in /proc/$GW_PID/task/*; do
    grep -q '^audit-writer' "$t/comm" && awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "$t/stat"
  done
}
report_cpu() { # START_SECS START_WRITER_SECS
  awk -v a="$1" -v b="$(cpu_secs)" -v wa="$2" -v wb="$(writer_secs)" -v n="$REQUESTS" \
    'BEGIN { printf "gateway CPU: %.1f s for %d exchanges = %.0f us per exchange (audit writer thread %.0f us, the rest %.0f us)\n", b - a, n, (b - a) * 1e6 / n, (wb - wa) * 1e6 / n, ((b - a) - (wb - wa)) * 1e6 / n }'
}

echo "mode $MODE: $REQUESTS requests, $CONNS connections, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
if [ "$MODE" = plain ]; then
  echo "== direct to the provider"
  $PIN_LOAD $LOADGEN --url "http://$PROVIDER/ho-tich" --requests "$REQUESTS" --connections "$CONNS"
  echo "== through a bare proxy (hyper in, pooled hyper out; no XML, no audit): the floor"
  $PIN_GW $BARE --upstream "http://$PROVIDER" >"$WORK/bare.out" 2>&1 &
  BARE_PID=$!
  BARE_ADDR=$(wait_addr "$WORK/bare.out" "bare proxy on")
  B0=$(pid_secs "$BARE_PID")
  $PIN_LOAD $LOADGEN --url "http://$BARE_ADDR/ho-tich" --requests "$REQUESTS" --connections "$CONNS"
  awk -v a="$B0" -v b="$(pid_secs "$BARE_PID")" -v n="$REQUESTS" \
    'BEGIN { printf "bare proxy CPU: %.0f us per exchange\n", (b - a) * 1e6 / n }'
  echo "== through the gateway (audit on, $STORE)"
  CPU0=$(cpu_secs) W0=$(writer_secs)
  perf_start
  $PIN_LOAD $LOADGEN --url "http://$GATEWAY/services/ho-tich" --consumer 000.00.00.H38 --requests "$REQUESTS" --connections "$CONNS"
  report_cpu "$CPU0" "$W0"
  perf_stop
else
  if [ "$KEYS" = p256 ]; then
    echo "== openssl speed ecdsap256 on the gateway's core"
    $PIN_GW openssl speed -seconds 5 ecdsap256 2>/dev/null | grep -E 'nistp256|sign/s' | tail -2
  else
    echo "== openssl speed rsa2048 on the gateway's core"
    $PIN_GW openssl speed -seconds 5 rsa2048 2>/dev/null | grep -E '^rsa 2048|sign/s' | tail -2
  fi
  echo "== signed exchanges through the gateway (gateway on core 0)"
  CPU0=$(cpu_secs) W0=$(writer_secs)
  perf_start
  $PIN_LOAD $LOADGEN --url "http://$GATEWAY/services/ho-tich" --sign-as 000.00.00.H38 --data-dir "$WORK/data" \
    --requests "$REQUESTS" --connections "$CONNS"
  report_cpu "$CPU0" "$W0"
  perf_stop
fi
echo "gateway errors logged: $(grep -c ' ERROR ' "$WORK/gw.log" || true)"
