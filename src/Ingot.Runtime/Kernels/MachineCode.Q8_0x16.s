# MachineCode.s continued: the Q8_0 rows kernel with 16 weight rows in the lanes of a 512-bit vector (prefills, batched
#   decode streams), assembled after MachineCode.Q4_Kx16.s in the same run of GNU as (as --64 MachineCode.s
#   MachineCode.Q4_0x16.s MachineCode.Q8_0.s MachineCode.KQuants.s MachineCode.Q6_Kx16.s MachineCode.F16Widen.s
#   MachineCode.Q4_Kx16.s MachineCode.Q8_0x16.s MachineCode.Q5_Kx16.s), so the transposes of MachineCode.Q6_Kx16.s and
#   x16_enter and x16_leave of MachineCode.s hold here.
.intel_syntax noprefix
.text
# q8x16_lane l: lane l of both tokens of the pair block at rax (codes + 128 at rax and rax + 32) against the 16 rows'
#   weight dwords l (signed) at rbx + 64l, from c_l = −128 · Σ of those 4 weight bytes (at rbx + 512 + 64l):
#   lane = c_l + Σ (q8 + 128)·w = Σ q8·w (exact), then acc[l] = fma(float(lane), d_w · d_a, acc[l]) for each token
#   (zmm l: token 0's, zmm 8 + l: token 1's; zmm16, zmm17: their d_w · d_a).
.macro q8x16_lane l, acc1
  vmovdqa64 zmm19, [rbx + 512 + 64*\l]
  vmovdqa64 zmm23, [rbx + 64*\l]
  vpbroadcastd zmm21, [rax + 4*\l]
  vpbroadcastd zmm22, [rax + 32 + 4*\l]
  vmovdqa64 zmm20, zmm19
  vpdpbusd zmm19, zmm21, zmm23
  vpdpbusd zmm20, zmm22, zmm23
  vcvtdq2ps zmm19, zmm19
  vcvtdq2ps zmm20, zmm20
  vfmadd231ps zmm\l, zmm19, zmm16
  vfmadd231ps zmm\acc1, zmm20, zmm17
.endm
# q8x16_hsum acc, y: y = ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)) of the 8 accumulators from zmm acc (Q0Order.Hsum8).
.macro q8x16_hsum a0, a1, a2, a3, a4, a5, a6, a7, y
  vaddps zmm\a0, zmm\a0, zmm\a4
  vaddps zmm\a1, zmm\a1, zmm\a5
  vaddps zmm\a2, zmm\a2, zmm\a6
  vaddps zmm\a3, zmm\a3, zmm\a7
  vaddps zmm\a0, zmm\a0, zmm\a2
  vaddps zmm\a1, zmm\a1, zmm\a3
  vaddps zmm\a0, zmm\a0, zmm\a1
  vmovups [\y], zmm\a0
.endm
# void q8_0x16dots512(Q8_0x16Args* rdi): Q8_0 weight rows · Q8_0 activation rows prepared in token pairs (as
#   q8_0dots512 reads them: per pair and block both tokens' codes + 128, then both d_a ×8), 16 rows per 512-bit vector
#   (lane r = row r of a group), every (row, token) with VecDotQ8_0Q8_0.V256's integer lanes, float steps and final sums.
#   Per group of 16 rows, first for every block: the rows' codes transposed (vector l = dword l of the 16 rows: ggml's
#   lane l), c_l = −128 · Σ of each lane's 4 codes and the rows' d_w (gathered), 17 vectors per block in the scratch;
#   then per pair of tokens, the 16 accumulators in registers, per block in order and lane l
#     acc[l] = fma(float(c_l + Σ (q8 + 128)·w), d_w · d_a, acc[l])
#   and y = ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7))   (Q0Order.Hsum8).
# Q8_0x16Args: +0 W (row 0 of group 0: blocks of 34 bytes, f16 d then 32 codes), +8 row stride (bytes), +16 groups
#   (≥ 1), +24 the prepared pairs (pair 0, block 0), +32 pair stride (bytes), +40 pairs (≥ 1), +48 blocks (≥ 1), +56
#   scratch (64-byte aligned, 1088 · blocks bytes), +64 y (row 0 of token 0), +72 token stride of y (bytes).
# Scratch per block: +0 the transposed codes (vectors 0..7; the transposes' 8..15 are overwritten), +512 c_0..7,
#   +1024 d_w.
.p2align 4, 0xcc
q8_0x16dots512:
  x16_enter
  mov r8, [rdi]
  mov r9, [rdi + 16]
  mov r15, [rdi + 64]
  # zmm30 (kept at [rsp] across the transposes, which use every register): lane r = r · row stride, the d_w gather's indices
  mov rax, 0x0706050403020100
  vmovq xmm29, rax
  mov rax, 0x0f0e0d0c0b0a0908
  vpinsrq xmm29, xmm29, rax, 1
  vpmovzxbd zmm29, xmm29
  vpbroadcastd zmm30, [rdi + 8]
  vpmulld zmm30, zmm30, zmm29
  sub rsp, 64
1:
  vmovdqu64 [rsp], zmm30
  # phase 1: per block the 17 vectors at scratch + 1088 · block
  mov rsi, r8
  mov rbx, [rdi + 56]
  mov r11, [rdi + 48]
  mov rdx, [rdi + 8]
  lea r10, [rdx + rdx*2]
  mov eax, 0xff
  kmovd k1, eax
2:
  mov rax, rsi
  q6x16_load16 2, vmovdqu32, "{k1}{z}"
  q6x16_stage12
  q6x16_stage34
  kxnorw k2, k2, k2
  vmovdqu64 zmm30, [rsp]
  vpxord zmm25, zmm25, zmm25
  vpgatherdd zmm25{k2}, [rsi + zmm30*1]
  vpmovdw ymm25, zmm25
  vcvtph2ps zmm25, ymm25
  vmovaps [rbx + 1024], zmm25
  mov eax, 0x80808080
  vpbroadcastd zmm31, eax
  vpxord zmm16, zmm16, zmm16
  vpxord zmm8, zmm8, zmm8
  vpdpbusd zmm8, zmm31, zmm0
  vpsubd zmm8, zmm16, zmm8
  vmovdqa64 [rbx + 512], zmm8
  vpxord zmm9, zmm9, zmm9
  vpdpbusd zmm9, zmm31, zmm1
  vpsubd zmm9, zmm16, zmm9
  vmovdqa64 [rbx + 576], zmm9
  vpxord zmm10, zmm10, zmm10
  vpdpbusd zmm10, zmm31, zmm2
  vpsubd zmm10, zmm16, zmm10
  vmovdqa64 [rbx + 640], zmm10
  vpxord zmm11, zmm11, zmm11
  vpdpbusd zmm11, zmm31, zmm3
  vpsubd zmm11, zmm16, zmm11
  vmovdqa64 [rbx + 704], zmm11
  vpxord zmm12, zmm12, zmm12
  vpdpbusd zmm12, zmm31, zmm4
  vpsubd zmm12, zmm16, zmm12
  vmovdqa64 [rbx + 768], zmm12
  vpxord zmm13, zmm13, zmm13
  vpdpbusd zmm13, zmm31, zmm5
  vpsubd zmm13, zmm16, zmm13
  vmovdqa64 [rbx + 832], zmm13
  vpxord zmm14, zmm14, zmm14
  vpdpbusd zmm14, zmm31, zmm6
  vpsubd zmm14, zmm16, zmm14
  vmovdqa64 [rbx + 896], zmm14
  vpxord zmm15, zmm15, zmm15
  vpdpbusd zmm15, zmm31, zmm7
  vpsubd zmm15, zmm16, zmm15
  vmovdqa64 [rbx + 960], zmm15
  add rsi, 34
  add rbx, 1088
  dec r11
  jnz 2b
  # phase 2: per pair of tokens, every block with the accumulators in zmm0..15
  mov r12, [rdi + 24]
  mov r14, r15
  mov rcx, [rdi + 40]
3:
  .irp i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
  vpxord zmm\i, zmm\i, zmm\i
  .endr
  mov rax, r12
  mov rbx, [rdi + 56]
  mov r11, [rdi + 48]
4:
  vmovaps zmm18, [rbx + 1024]
  vmulps zmm16, zmm18, [rax + 64]{1to16}
  vmulps zmm17, zmm18, [rax + 96]{1to16}
  q8x16_lane 0, 8
  q8x16_lane 1, 9
  q8x16_lane 2, 10
  q8x16_lane 3, 11
  q8x16_lane 4, 12
  q8x16_lane 5, 13
  q8x16_lane 6, 14
  q8x16_lane 7, 15
  sub rax, -128
  add rbx, 1088
  dec r11
  jnz 4b
  mov rdx, [rdi + 72]
  q8x16_hsum 0, 1, 2, 3, 4, 5, 6, 7, r14
  q8x16_hsum 8, 9, 10, 11, 12, 13, 14, 15, r14 + rdx
  lea r14, [r14 + rdx*2]
  add r12, [rdi + 32]
  dec rcx
  jnz 3b
  mov rax, [rdi + 8]
  shl rax, 4
  add r8, rax
  add r15, 64
  dec r9
  jnz 1b
  add rsp, 64
  x16_leave
