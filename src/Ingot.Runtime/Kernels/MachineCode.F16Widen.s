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
# f32narrow512(rdi = the floats, rsi = the halves, rdx = how many: a multiple of 32, at least 32): 32 per iteration,
#   rounded to nearest even (imm 0), as (Half) and ggml's F16C conversions round.
f32narrow512:
  shr rdx, 5
1:
  vmovups zmm0, [rdi]
  vmovups zmm1, [rdi + 64]
  vcvtps2ph [rsi], zmm0, 0
  vcvtps2ph [rsi + 32], zmm1, 0
  add rdi, 128
  add rsi, 64
  dec rdx
  jnz 1b
  vzeroupper
  ret
