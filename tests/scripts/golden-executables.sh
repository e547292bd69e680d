#!/usr/bin/env bash
# Builds a real NativeAOT executable (`ingot build`) for every family of ../shared/golden and checks it against
# llama.cpp's references with the tolerances of golden/README.md: a decoder's `logits` verb (`--kv-type f32`) against
# ref/*.logits.kvf32.bin, BERT's `embed --pooling none` against ref/*.embd.bin and `embed` (mean) against
# ref/*.embd_mean.bin, T5's `logits --decoder-tokens` against its decoder rows. The same checks run in-process in
# tests/Ingot.EndToEnd.Tests (GoldenFamilyTests, GoldenBertTests, GoldenT5Tests); this script proves the published
# binaries. One NativeAOT publish per model: about 1–3 minutes each on 2 cores.
#   usage: tests/scripts/golden-executables.sh [OUT_DIR] [MODEL…]     (default: all families, OUT_DIR /tmp/ingot-golden)
set -euo pipefail
cd "$(dirname "$0")/../.."
shared=../shared/golden
out=${1:-/tmp/ingot-golden}
shift || true
models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  models=(llama-gqa.f32 qwen2.f32 phi3.f32 phi3-swa.f32 granite.f32 gemma.f32 gemma.f16 gemma2.f32 gpt2.f32 gptneox.f32 starcoder2.f32
          bert.f32 bert.f16 t5.f32)
fi
mkdir -p "$out"
dotnet build src/Ingot.Cli -v q -nologo >/dev/null
tokens="1 300 301 302 303 304 305 306 307 308 309 310 311 312 313 314"
status=0
for m in "${models[@]}"; do
  name=${m//./-}
  case "$m" in
    *.f16|gemma2.*) tol=1e-2 ;;
    gemma.*|gpt2.*|gptneox.*|starcoder2.*|bert.*|t5.*) tol=2e-3 ;;
    *) tol=1e-4 ;;
  esac
  start=$(date +%s)
  dotnet run --no-build --project src/Ingot.Cli -- build "$shared/models/$m.gguf" --name "$name" -o "$out" >"$out/$name.build.log" 2>&1 \
    || { echo "$m: ingot build failed (see $out/$name.build.log)"; status=1; continue; }
  built=$(( $(date +%s) - start ))
  pairs=()
  case "$m" in
    bert.*)
      ids="101 300 301 302 303 304 305 306 307 308 309 310 311 312 313 102"
      "$out/$name" embed --tokens "$ids" --pooling none -o "$out/$name.embd.bin" 2>/dev/null
      "$out/$name" embed --tokens "$ids" --pooling mean -o "$out/$name.embd_mean.bin" 2>/dev/null
      pairs=("$name.embd.bin:$m.embd.bin" "$name.embd_mean.bin:$m.embd_mean.bin") ;;
    t5.*)
      "$out/$name" logits --tokens "300 301 302 303 304 305 306 307 308 309 310 311 312 313 314 1" \
          --decoder-tokens "0 300 301 302 303 304 305 306 307 308 309 310 311 312 313 314" --kv-type f32 -o "$out/$name.logits.bin" >/dev/null
      pairs=("$name.logits.bin:$m.logits.kvf32.bin") ;;
    *)
      "$out/$name" logits --tokens "$tokens" --kv-type f32 -o "$out/$name.logits.bin" >/dev/null
      pairs=("$name.logits.bin:$m.logits.kvf32.bin") ;;
  esac
  for pair in "${pairs[@]}"; do
  python3 - "$out/${pair%%:*}" "$shared/ref/${pair##*:}" "$tol" "$m ${pair##*:}" "$built" <<'PY' || status=1
import struct, sys
def read(p):
    b = open(p, 'rb').read()
    r, c = struct.unpack_from('<ii', b)
    return r, c, struct.unpack_from('<%df' % (r * c), b, 8)
ra, ca, a = read(sys.argv[1]); rb, cb, b = read(sys.argv[2])
tol = float(sys.argv[3])
if (ra, ca) != (rb, cb):
    print(f"{sys.argv[4]}: shape {ra}x{ca}, reference {rb}x{cb}: FAIL"); sys.exit(1)
m = max(abs(x - y) for x, y in zip(a, b))
ok = m <= tol
print(f"{sys.argv[4]}: executable output max-abs {m:.3e} (tolerance {tol:g}), built in {sys.argv[5]} s: {'PASS' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
PY
  done
done
exit $status
