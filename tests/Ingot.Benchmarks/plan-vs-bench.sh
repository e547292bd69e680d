#!/usr/bin/env bash
# ingot plan's decode prediction against bench's measurement, in the same minutes.
#   tests/Ingot.Benchmarks/plan-vs-bench.sh OUT/NAME [OUT/NAME ...]   (executables from `ingot build`, each with its NAME.gguf beside it)
# Environment: INGOT (the ingot command; default `ingot`), THREADS (default 2).
set -euo pipefail
ingot="${INGOT:-ingot}" threads="${THREADS:-2}"
[ $# -ge 1 ] || { echo "usage: $0 OUT/NAME [OUT/NAME ...]" >&2; exit 2; }
files=(); for bin in "$@"; do files+=("$bin.gguf"); done
$ingot plan "${files[@]}" --types file --ctx 128 -t "$threads"
for bin in "$@"; do
  echo "$(basename "$bin"): $("$bin" bench -p 0 -n 64 -r 3 -t "$threads" | tail -1)"
done
