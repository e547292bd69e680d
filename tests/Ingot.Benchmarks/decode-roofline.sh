#!/usr/bin/env bash
# Decode speed against the memory roofline, for models compiled by `ingot build`.
#
#   tests/Ingot.Benchmarks/decode-roofline.sh OUT/NAME [OUT/NAME ...]
#
# For each round and each binary: measures read bandwidth with ../shared/tools/membw.c (OMP_NUM_THREADS=$THREADS)
# immediately before, then runs `NAME bench -p 0 -n 64 -r 5 -t $THREADS --roofline <that bandwidth>`, which prints the
# tg64 weight GB/s and its fraction of the roofline (bandwidth / weight bytes per token). The bandwidth of a shared
# machine drifts by tens of percent within minutes, hence one fresh measurement per run and several rounds.
# Environment: ROUNDS (default 3), THREADS (default 2), TOKENS (default 64).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
membw_src="$here/../../../shared/tools/membw.c"
[ -f "$membw_src" ] || { echo "decode-roofline: $membw_src is missing (../shared beside the repository)" >&2; exit 1; }
[ $# -ge 1 ] || { echo "usage: $0 OUT/NAME [OUT/NAME ...]" >&2; exit 2; }
membw="${TMPDIR:-/tmp}/ingot-membw"
[ "$membw" -nt "$membw_src" ] || cc -O3 -march=native -fopenmp "$membw_src" -o "$membw"
rounds="${ROUNDS:-3}" threads="${THREADS:-2}" tokens="${TOKENS:-64}"
for ((r = 1; r <= rounds; r++)); do
  for bin in "$@"; do
    gbps="$(OMP_NUM_THREADS="$threads" "$membw" | sed -n 's/.*read_GBps=\([0-9.]*\).*/\1/p')"
    echo "round $r, $(basename "$bin"), membw $gbps GB/s:"
    "$bin" bench -p 0 -n "$tokens" -r 5 -t "$threads" --roofline "$gbps" | tail -2
  done
done
