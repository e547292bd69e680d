# MachineCode.s continued: runs of halves widened to floats (vcvtph2ps, exact) and floats narrowed to halves
#   (vcvtps2ph, rounding to nearest even), for Vec.Convert.F16ToF32 / F32ToF16 (the F16 KV cache's stores, its key and
#   value blocks, the rounding of queries and attention weights): .NET 10 has no F16C intrinsic, and HalfBits' integer
#   forms take about 10 operations per 16 lanes. Assembled after MachineCode.Q6_Kx16.s in the same run of GNU as
#   (as --64 MachineCode.s MachineCode.Q4_0x16.s MachineCode.Q8_0.s MachineCode.KQuants.s MachineCode.Q6_Kx16.s MachineCode.F16Widen.s).
.intel_syntax noprefix
.text
# f16widen512(rdi = the halves, rsi = the floats, rdx = how many: a multiple of 32, at least 32): 32 per iteration.
f16widen512:
  shr rdx, 5
1:
  vcvtph2ps zmm0, [rdi]
  vcvtph2ps zmm1, [rdi + 32]
  vmovups [rsi], zmm0
  vmovups [rsi + 64], zmm1
  add rdi, 64
  add rsi, 128
  dec rdx
  jnz 1b
  vzeroupper
  ret
# f32narrow_loop store: f32narrow512's loop (rdi floats, rsi halves, rdx how many, a multiple of 32) and return, the
#   halves written by store (vmovdqu, or vmovntdq for f32narrow512nt).
.macro f32narrow_loop store
  shr rdx, 5
1:
  vmovups zmm0, [rdi]
  vmovups zmm1, [rdi + 64]
  vcvtps2ph ymm0, zmm0, 0
  vcvtps2ph ymm1, zmm1, 0
  \store [rsi], ymm0
  \store [rsi + 32], ymm1
  add rdi, 128
  add rsi, 64
  dec rdx
  jnz 1b
  vzeroupper
  ret
.endm
# f32narrow512(rdi = the floats, rsi = the halves, rdx = how many: a multiple of 32, at least 32): 32 per iteration,
#   rounded to nearest even (imm 0), as (Half) and ggml's F16C conversions round. The register form then a store: the
#   memory form of vcvtps2ph is microcoded on AMD Zen (perf, 8-stream decode on Zen 4: a quarter of these routines'
#   samples on it).
f32narrow512:
  f32narrow_loop vmovdqu
# f32roundf16_512(rdi = the floats, rsi = the results (rdi allowed), rdx = how many: a multiple of 32, at least 32): each
#   float rounded to F16 precision (nearest even) and widened back, f32narrow512 then f16widen512 without the halves in
#   memory (the attention's queries and weights, rounded as ggml's F16 operands: two calls and a store each before).
f32roundf16_512:
  shr rdx, 5
1:
  vmovups zmm0, [rdi]
  vmovups zmm1, [rdi + 64]
  vcvtps2ph ymm0, zmm0, 0
  vcvtps2ph ymm1, zmm1, 0
  vcvtph2ps zmm0, ymm0
  vcvtph2ps zmm1, ymm1
  vmovups [rsi], zmm0
  vmovups [rsi + 64], zmm1
  add rdi, 128
  add rsi, 128
  dec rdx
  jnz 1b
  vzeroupper
  ret
# f32narrow512nt(rdi = the floats, rsi = the halves, 32-byte aligned, rdx = how many: a multiple of 32, at least 32):
#   f32narrow512 with non-temporal stores, for the F16 KV cache's new rows (KvCache.ScatterHeads): those lines are
#   cold, and ordinary stores to them wait for each line to be read first (5 % of the main thread's samples in 8-stream
#   decode on Zen 4, the other thread idle meanwhile). The caller fences (sfence) after its last row.
f32narrow512nt:
  f32narrow_loop vmovntdq
