#!/usr/bin/env bash
# Aggregate decode throughput of `serve --parallel P` over HTTP: one stream alone, then P concurrent streams, each a
# greedy /v1/completions of N tokens. R rounds, each the single stream then the P streams in the same seconds, and the
# median of the rounds' ratios: on a shared VM the bandwidth (hence the single stream) moves by 30 % within minutes, so
# one round's ratio says little. Two measures per round:
#   wall:   usage.completion_tokens over the client's wall time (prompt prefill, HTTP and curl included);
#   decode: the server's timings (llama-server's field): one stream's predicted_per_second, and for P streams the sum of
#           theirs (their decodes run in the same steps), so prompt processing and client overhead are left out.
# Extra arguments after R go to serve (e.g. --kv-type f16).
# usage: serve-throughput.sh EXE [P=8] [N=128] [THREADS=2] [PORT=18080] [R=5] [SERVE ARGS...]
set -euo pipefail
exe=$1; p=${2:-8}; n=${3:-128}; t=${4:-2}; port=${5:-18080}; rounds=${6:-5}
shift $(( $# < 6 ? $# : 6 ))
[[ -x "$exe" ]] || { echo "serve-throughput.sh: $exe is not an executable (the compiled model's binary)" >&2; exit 2; }
"$exe" serve --port "$port" --parallel "$p" --ctx $((n + 64)) -t "$t" "$@" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/health" >/dev/null || { echo "serve-throughput.sh: $exe serve did not answer on port $port" >&2; exit 1; }

one() { # prints "completion_tokens predicted_per_second" of one request
  local body
  body=$(curl -s "http://127.0.0.1:$port/v1/completions" -H 'Content-Type: application/json' \
    -d "{\"prompt\":\"Once upon a time $1\",\"max_tokens\":$n,\"temperature\":0}")
  echo "$(grep -o '"completion_tokens":[0-9]*' <<<"$body" | cut -d: -f2) $(grep -o '"predicted_per_second":[0-9.eE+-]*' <<<"$body" | cut -d: -f2)"
}
run() { # $1 concurrent streams: prints "wall-clock tokens/s, sum of the streams' decode tokens/s"
  local start end f; f=$(mktemp)
  start=$(date +%s.%N)
  for i in $(seq "$1"); do one "$i" >>"$f" & done
  wait
  end=$(date +%s.%N)
  echo "$(awk '{s += $1} END {print s}' "$f") / ($end - $start)" | bc -l | tr '\n' ' '
  awk '{s += $2} END {print s}' "$f"; rm -f "$f"
}
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
warm=$(run 1) # warm-up (a command substitution: its wait sees only its own curls)
singles=(); multis=(); ratios=(); dsingles=(); dmultis=(); dratios=()
for r in $(seq "$rounds"); do
  read -r single dsingle < <(run 1); read -r multi dmulti < <(run "$p")
  ratio=$(echo "$multi / $single" | bc -l); dratio=$(echo "$dmulti / $dsingle" | bc -l)
  printf 'round %d: wall: single stream %.1f t/s, %d streams %.1f t/s aggregate, ratio %.2f; decode: %.1f, %.1f, ratio %.2f\n' \
    "$r" "$single" "$p" "$multi" "$ratio" "$dsingle" "$dmulti" "$dratio"
  singles+=("$single"); multis+=("$multi"); ratios+=("$ratio"); dsingles+=("$dsingle"); dmultis+=("$dmulti"); dratios+=("$dratio")
done
summary() { # label, singles, multis, ratios (newline-separated)
  printf '%s: median of %d rounds: single stream %.1f t/s; %d streams %.1f t/s aggregate; ratio %.2f (rounds %.2f-%.2f)\n' "$1" "$rounds" \
    "$(median <<<"$2")" "$p" "$(median <<<"$3")" "$(median <<<"$4")" "$(sort -g <<<"$4" | head -1)" "$(sort -g <<<"$4" | tail -1)"
}
summary wall "$(printf '%s\n' "${singles[@]}")" "$(printf '%s\n' "${multis[@]}")" "$(printf '%s\n' "${ratios[@]}")"
summary decode "$(printf '%s\n' "${dsingles[@]}")" "$(printf '%s\n' "${dmultis[@]}")" "$(printf '%s\n' "${dratios[@]}")"
