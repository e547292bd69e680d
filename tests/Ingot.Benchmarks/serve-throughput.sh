#!/usr/bin/env bash
# Aggregate decode throughput of `serve --parallel P` over HTTP: one stream alone, then P concurrent streams, each a
# greedy /v1/completions of N tokens (usage.completion_tokens counted; prefill of the short prompt included).
# usage: serve-throughput.sh EXE [P=8] [N=128] [THREADS=2] [PORT=18080]
set -euo pipefail
exe=$1; p=${2:-8}; n=${3:-128}; t=${4:-2}; port=${5:-18080}
"$exe" serve --port "$port" --parallel "$p" --ctx $((n + 64)) -t "$t" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done

one() { # prints the completion tokens of one request
  curl -s "http://127.0.0.1:$port/v1/completions" -H 'Content-Type: application/json' \
    -d "{\"prompt\":\"Once upon a time $1\",\"max_tokens\":$n,\"temperature\":0}" | grep -o '"completion_tokens":[0-9]*' | cut -d: -f2
}
run() { # $1 concurrent streams: prints tokens/s over the wall time
  local start end total=0 f; f=$(mktemp)
  start=$(date +%s.%N)
  for i in $(seq "$1"); do one "$i" >>"$f" & done
  wait
  end=$(date +%s.%N)
  total=$(paste -sd+ "$f" | bc); rm -f "$f"
  echo "$total / ($end - $start)" | bc -l
}
warm=$(run 1) # warm-up (a command substitution: its wait sees only its own curls)
single=$(run 1); multi=$(run "$p")
printf 'single stream: %.1f t/s; %d streams: %.1f t/s aggregate; ratio %.2f\n' "$single" "$p" "$multi" "$(echo "$multi / $single" | bc -l)"
