#!/usr/bin/env bash
# Coverage-guided fuzzing of Ingot's readers with SharpFuzz + AFL++.
#   tests/Fuzzing/fuzz.sh TARGET[,TARGET…]|all SECONDS [WORKDIR]
# Targets (Ingot.Fuzzing/FuzzTargets.cs): gguf safetensors llama2c spm-model tokenizer-json spec-json jinja.
# Builds Ingot.Fuzzing, instruments Ingot.Formats/Specs/Runtime with the sharpfuzz tool, then runs afl-fuzz on each
# target for SECONDS from its seeds (FuzzSeeds for the binary formats, corpus/TARGET for the text ones). Prints
# executions, coverage edges and crashes per target; a crash's input is under WORKDIR/findings/TARGET/default/crashes,
# and the script replays each one with the uninstrumented build (WORKDIR/artifacts/bin/Ingot.Fuzzing/release/
# Ingot.Fuzzing.dll TARGET FILE: the instrumented one needs AFL's shared memory) and prints the distinct errors. A fixed
# crash goes to regressions/TARGET if it is text, or into FuzzSeeds.Regressions if it is a binary format; `dotnet test`
# replays both (FuzzRegressionTests).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${1:?usage: fuzz.sh TARGET|all SECONDS [WORKDIR]}"
seconds="${2:?usage: fuzz.sh TARGET|all SECONDS [WORKDIR]}"
work="${3:-/tmp/ingot-fuzz}"
all=(gguf safetensors llama2c spm-model tokenizer-json spec-json jinja)
if [ "$target" = all ]; then targets=("${all[@]}"); else IFS=, read -ra targets <<< "$target"; fi

if ! command -v afl-fuzz >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null
fi
mkdir -p "$work"
if [ ! -x "$work/tools/sharpfuzz" ]; then
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$work/tools" >/dev/null
fi
# A fresh publish, then instrumentation (once per publish: sharpfuzz refuses an instrumented assembly).
rm -rf "$work/bin"
env -u INGOT_ARTIFACTS dotnet publish "$here/Ingot.Fuzzing/Ingot.Fuzzing.csproj" -c Release -o "$work/bin" \
  -p:ArtifactsPath="$work/artifacts" -nologo -v q >/dev/null
# Seeds: the binary formats made by code (no model file lives in the repo), the text ones from corpus/. Before the
# instrumentation: instrumented code runs only under AFL.
rm -rf "$work/seeds"
dotnet "$work/bin/Ingot.Fuzzing.dll" --seeds "$work/seeds"
cp -r "$here/corpus/." "$work/seeds/"
for dll in Ingot.Formats Ingot.Specs Ingot.Runtime; do
  "$work/tools/sharpfuzz" "$work/bin/$dll.dll" >/dev/null
done

# Each target process keeps a scratch directory; AFL kills them, so they go under WORKDIR, emptied per target.
export TMPDIR="$work/tmp"
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
printf '%-15s %12s %8s %8s\n' target executions edges crashes
for t in "${targets[@]}"; do
  out="$work/findings/$t"
  rm -rf "$out" "$TMPDIR"; mkdir -p "$work/findings" "$TMPDIR"
  # -t: a case over 1 s is a hang (the issue's bound); -m none: .NET reserves more address space than AFL's default.
  afl-fuzz -i "$work/seeds/$t" -o "$out" -t 1000 -m none -V "$seconds" -- "$(command -v dotnet)" "$work/bin/Ingot.Fuzzing.dll" "$t" >"$work/$t.log" 2>&1 || true
  stats="$out/default/fuzzer_stats"
  if [ -f "$stats" ]; then
    execs=$(awk -F': *' '$1 ~ /^execs_done/ {print $2}' "$stats")
    edges=$(awk -F': *' '$1 ~ /^edges_found/ {print $2}' "$stats")
    crashes=$(awk -F': *' '$1 ~ /^saved_crashes|^unique_crashes/ {print $2}' "$stats" | head -1)
    printf '%-15s %12s %8s %8s\n' "$t" "$execs" "$edges" "$crashes"
    for f in "$out"/default/crashes/id* "$out"/default/hangs/id*; do
      [ -f "$f" ] || continue
      msg=$(timeout 10 dotnet "$work/artifacts/bin/Ingot.Fuzzing/release/Ingot.Fuzzing.dll" "$t" "$f" 2>&1 | head -1) || true
      [ -n "$msg" ] || msg="no error on replay (a hang, or slow under AFL)"
      echo "$msg" | sed 's/^[^:]*: //; s#/tmp/ingot-fuzz-[A-Za-z0-9]*/##'
    done | sort | uniq -c | sed 's/^/    /'
  else
    printf '%-15s did not start; see %s\n' "$t" "$work/$t.log"
  fi
done
