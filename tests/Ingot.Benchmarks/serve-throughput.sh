#!/usr/bin/env bash
# Aggregate decode throughput of `serve --parallel P` over HTTP: one stream alone, then P concurrent streams, each a
# greedy /v1/completions of N tokens (usage.completion_tokens counted; prefill of the short prompt included). R rounds,
# each the single stream then the P streams in the same seconds, and the median of the rounds' ratios: on a shared VM
# the bandwidth (hence the single stream) moves by 30 % within minutes, so one round's ratio says little.
# usage: serve-throughput.sh EXE [P=8] [N=128] [THREADS=2] [PORT=18080] [R=5]
set -euo pipefail
exe=$1; p=${2:-8}; n=${3:-128}; t=${4:-2}; port=${5:-18080}; rounds=${6:-5}
[[ -x "$exe" ]] || { echo "serve-throughput.sh: $exe is not an executable (the compiled model's binary)" >&2; exit 2; }
"$exe" serve --port "$port" --parallel "$p" --ctx $((n + 64)) -t "$t" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/health" >/dev/null || { echo "serve-throughput.sh: $exe serve did not answer on port $port" >&2; exit 1; }

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
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
warm=$(run 1) # warm-up (a command substitution: its wait sees only its own curls)
singles=(); multis=(); ratios=()
for r in $(seq "$rounds"); do
  single=$(run 1); multi=$(run "$p")
  ratio=$(echo "$multi / $single" | bc -l)
  printf 'round %d: single stream %.1f t/s; %d streams %.1f t/s aggregate; ratio %.2f\n' "$r" "$single" "$p" "$multi" "$ratio"
  singles+=("$single"); multis+=("$multi"); ratios+=("$ratio")
done
printf 'median of %d rounds: single stream %.1f t/s; %d streams %.1f t/s aggregate; ratio %.2f (rounds %.2f-%.2f)\n' "$rounds" \
  "$(printf '%s\n' "${singles[@]}" | median)" "$p" "$(printf '%s\n' "${multis[@]}" | median)" "$(printf '%s\n' "${ratios[@]}" | median)" \
  "$(printf '%s\n' "${ratios[@]}" | sort -g | head -1)" "$(printf '%s\n' "${ratios[@]}" | sort -g | tail -1)"
