#!/usr/bin/env bash
# Load test of the running binary: plain pass-through with audit on (SQLite), a 2 KB SOAP
# 1.1 request at 64 connections, through the gateway and directly to the same provider.
# Reports requests/s and latency percentiles from wrk. Not a test: numbers, not verdicts.
#
#   benches/load.sh [DURATION_SECONDS] [CONNECTIONS]
#
# Needs wrk (apt-get install wrk). Builds the release binary. Only loopback is used.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15}
CONNS=${2:-64}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
cargo build --release -q
BIN=target/release/lienthong
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

# Example providers on a free port, then a gateway pointing at them.
$BIN provider --listen 127.0.0.1:0 >"$WORK/provider.out" 2>"$WORK/provider.log" &
for _ in $(seq 1 100); do grep -q http:// "$WORK/provider.out" 2>/dev/null && break; sleep 0.1; done
PROVIDER=$(grep -o 'http://[0-9.:]*' "$WORK/provider.out" | head -1 | sed 's#http://##')
python3 - "$WORK" "$PROVIDER" <<'PY'
import sys, re, pathlib
work, provider = sys.argv[1], sys.argv[2]
conf = pathlib.Path("conf").resolve()
text = (conf / "gateway.toml").read_text().replace("127.0.0.1:9100", provider)
# Relative paths are resolved against the config's directory: make them absolute.
text = re.sub(r'^(\s*(wsdl|catalog|request|response)\s*=\s*")(?!/)', lambda m: m.group(1) + str(conf) + "/", text, flags=re.M)
# Plain pass-through: every service accepts unsigned calls (the signed load test is separate).
blocks = text.split("[[services]]")
text = blocks[0] + "".join("[[services]]" + b.rstrip() + "\n[services.security]\ndangerous_accept_unsigned = true\n\n" for b in blocks[1:])
pathlib.Path(work, "gateway.toml").write_text(text)
PY
$BIN serve --config "$WORK/gateway.toml" --data-dir "$WORK/data" --listen 127.0.0.1:0 >"$WORK/gw.out" 2>"$WORK/gw.log" &
for _ in $(seq 1 100); do grep -q 'listening on' "$WORK/gw.out" 2>/dev/null && break; sleep 0.1; done
GATEWAY=$(grep -o 'http://[0-9.:]*' "$WORK/gw.out" | head -1 | sed 's#http://##')

# A 2 KB request: the example lookup padded with an XML comment to 2048 bytes.
python3 - "$WORK/body.xml" <<'PY'
import sys, pathlib, re
payload = pathlib.Path("conf/examples/ho-tich-TraCuuKhaiSinh.xml").read_text()
payload = re.sub(r'^<\?xml[^>]*\?>\s*', '', payload.strip())
env = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
       '<soapenv:Header/><soapenv:Body>%s</soapenv:Body></soapenv:Envelope>' % payload)
pad = 2048 - len(env.encode()) - len("<!---->")
env = env.replace("<soapenv:Header/>", "<soapenv:Header/><!--" + "x" * max(pad, 0) + "-->")
pathlib.Path(sys.argv[1]).write_text(env)
PY
cat >"$WORK/post.lua" <<LUA
wrk.method = "POST"
local f = io.open("$WORK/body.xml", "rb"); wrk.body = f:read("*a"); f:close()
wrk.headers["Content-Type"] = "text/xml; charset=utf-8"
wrk.headers["SOAPAction"] = '""'
wrk.headers["X-Lienthong-Consumer"] = "000.00.00.H38"
LUA
echo "request: $(wc -c <"$WORK/body.xml") bytes, $CONNS connections, ${DURATION}s each, $(nproc) cores"
echo "== direct to the provider"
wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s "$WORK/post.lua" "http://$PROVIDER/ho-tich" | grep -E 'Requests/sec|50%|90%|99%|Non-2xx|errors'
echo "== through the gateway (audit on, SQLite)"
wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s "$WORK/post.lua" "http://$GATEWAY/services/ho-tich" | grep -E 'Requests/sec|50%|90%|99%|Non-2xx|errors'
