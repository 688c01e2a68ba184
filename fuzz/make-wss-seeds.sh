#!/usr/bin/env bash
# Seeds for the `wss_verify` target: the example requests, signed as an agency with the
# fuzzing PKI (made here under fuzz/wss/data, never committed) by the release binary.
set -euo pipefail
cd "$(dirname "$0")"
BIN=../target/release/lienthong
[ -x "$BIN" ] || (cd .. && cargo build --release -q)
$BIN pki init --config wss/gateway.toml --data-dir wss/data >/dev/null
mkdir -p seeds/wss_verify
for f in ../conf/examples/*.xml; do
  name=$(basename "$f" .xml)
  body=$(sed -e '1{/^<?xml/d}' "$f")
  printf '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>%s</soap:Body></soap:Envelope>' "$body" >"wss/$name.xml"
  $BIN wss sign --as 000.00.21.H38 --config wss/gateway.toml --data-dir wss/data "wss/$name.xml" >"seeds/wss_verify/$name.xml"
  rm "wss/$name.xml"
done
ls seeds/wss_verify | wc -l
