.intel_syntax noprefix
.text
# long perm(void): arch_prctl(ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18); 0 when granted
perm:
  mov eax, 158
  mov edi, 0x1023
  mov esi, 18
  syscall
  ret
  int3
  int3
  int3
# void gemm(Args* rdi): for each block b < blocks (32 elements):
#   C[b][0] = A0[b]·B[b], C[b][1] = A1[b]·B[b]   (tdpbssd: int8 × int8 → int32, 16 × 16 each)
# Args: +0 config (64 bytes, ldtilecfg; null: the thread's tiles are configured so already), +8 A0 (block 0 of token row 0 of the first 16 tokens: Q8_0 codes),
#       +16 A1 (the same for the next 16 tokens; null: one tile only), +24 token row stride, +32 B (block-major, 512 bytes per block:
#       8 rows of 64 bytes, row k = dword k of 16 weight rows), +40 C (2 KB per block: two 16 × 16 int32 tiles),
#       +48 blocks. Consecutive blocks: A +34 bytes (one Q8_0 block), B +512, C +2048.
gemm:
  mov rax, [rdi]
  test rax, rax
  jz 2f
  ldtilecfg [rax]
2:
  mov rsi, [rdi + 8]
  mov rcx, [rdi + 16]
  mov rdx, [rdi + 24]
  mov r8, [rdi + 32]
  mov r9, [rdi + 40]
  mov r10, [rdi + 48]
  mov r11, 64
  test rcx, rcx
  jz 3f
1:
  tileloadd tmm0, [rsi + rdx*1]
  tileloadd tmm1, [rcx + rdx*1]
  tileloadd tmm2, [r8 + r11*1]
  tilezero tmm4
  tilezero tmm5
  tdpbssd tmm4, tmm0, tmm2
  tdpbssd tmm5, tmm1, tmm2
  tilestored [r9 + r11*1], tmm4
  lea rax, [r9 + 1024]
  tilestored [rax + r11*1], tmm5
  add rsi, 34
  add rcx, 34
  add r8, 512
  add r9, 2048
  dec r10
  jnz 1b
  ret
# one token tile (A1 null): C[b][0] only
3:
  tileloadd tmm0, [rsi + rdx*1]
  tileloadd tmm2, [r8 + r11*1]
  tilezero tmm4
  tdpbssd tmm4, tmm0, tmm2
  tilestored [r9 + r11*1], tmm4
  add rsi, 34
  add r8, 512
  add r9, 2048
  dec r10
  jnz 3b
  ret
# void f16dots512(F16Args* rdi): F16 weight rows · f32 activations, the accumulators of Dot.F16F16WidenedV512's main
#   loop (vcvtph2ps: the exact f16 → f32 conversion .NET 10 has no intrinsic for). For each row r < rows and token
#   t < tokens: zmm0 = Σ over 32-element steps j of W[r][32j .. 32j+15] · X[t][32j ..] (one fused multiply-add per
#   step, in step order), zmm1 the same over elements 32j+16 .. 32j+31; stored at out + 128·(r·tokens + t).
# void f16dots256(F16Args* rdi): the same for Dot.F16F32V256's main loop (F16C, AVX, FMA): four accumulators of 8
#   lanes, ymm_k over elements 32j+8k .. 32j+8k+7; stored at out + 128·(r·tokens + t) as ymm0..ymm3.
# F16Args: +0 W (row 0), +8 row stride (bytes), +16 rows (≥ 1), +24 X (token 0, f32), +32 token stride (bytes),
#          +40 tokens (≥ 1), +48 steps (cols / 32), +56 out.
# ahead l1, l2, offsets: the weights at rsi + offsets (touches that reach every 64-byte line a loop step reads)
#   prefetched l1 bytes ahead into L1, then l2 bytes ahead into L2 (4 KB and 16 KB as Prefetch.Step; the Q4_0 x16
#   blocks 24 and 64 blocks).
.macro ahead l1, l2, offsets:vararg
  .irp o, \offsets
  prefetcht0 [rsi + \l1 + \o]
  .endr
  .irp o, \offsets
  prefetcht2 [rsi + \l2 + \o]
  .endr
.endm
# f16dots zero, step, store: the loops over rows, tokens and 32-element steps (64 bytes of weights, prefetched 4 KB
#   ahead into L1 and 16 KB into L2) around a width's macros: zero its accumulators, one step (rsi: weights, rdx: x),
#   store its accumulators at r10.
.macro f16dots zero, step, store
  mov r8, [rdi]
  mov r9, [rdi + 16]
  mov r10, [rdi + 56]
4:
  mov rax, [rdi + 24]
  mov r11, [rdi + 40]
5:
  \zero
  mov rsi, r8
  mov rdx, rax
  mov rcx, [rdi + 48]
  test rcx, rcx
  jz 7f
6:
  ahead 4096, 16384, 0, 48
  \step
  add rsi, 64
  add rdx, 128
  dec rcx
  jnz 6b
7:
  \store
  add r10, 128
  add rax, [rdi + 32]
  dec r11
  jnz 5b
  add r8, [rdi + 8]
  dec r9
  jnz 4b
  vzeroupper
  ret
.endm
.macro f16zero512
  vxorps xmm0, xmm0, xmm0
  vxorps xmm1, xmm1, xmm1
.endm
.macro f16step512
  vcvtph2ps zmm2, [rsi]
  vcvtph2ps zmm3, [rsi + 32]
  vfmadd231ps zmm0, zmm2, [rdx]
  vfmadd231ps zmm1, zmm3, [rdx + 64]
.endm
.macro f16store512
  vmovups [r10], zmm0
  vmovups [r10 + 64], zmm1
.endm
.macro f16zero256
  vxorps xmm0, xmm0, xmm0
  vxorps xmm1, xmm1, xmm1
  vxorps xmm2, xmm2, xmm2
  vxorps xmm3, xmm3, xmm3
.endm
.macro f16step256
  vcvtph2ps ymm4, [rsi]
  vcvtph2ps ymm5, [rsi + 16]
  vcvtph2ps ymm6, [rsi + 32]
  vcvtph2ps ymm7, [rsi + 48]
  vfmadd231ps ymm0, ymm4, [rdx]
  vfmadd231ps ymm1, ymm5, [rdx + 32]
  vfmadd231ps ymm2, ymm6, [rdx + 64]
  vfmadd231ps ymm3, ymm7, [rdx + 96]
.endm
.macro f16store256
  vmovups [r10], ymm0
  vmovups [r10 + 32], ymm1
  vmovups [r10 + 64], ymm2
  vmovups [r10 + 96], ymm3
.endm
.p2align 4, 0xcc
f16dots512:
  f16dots f16zero512, f16step512, f16store512
.p2align 4, 0xcc
f16dots256:
  f16dots f16zero256, f16step256, f16store256
# The two Q4_0 kernels of Ingot's interleaved layout (16 rows per group; per block: 16 f16 scales, then code dword k of
# the 16 rows for k = 0..3, 288 bytes) against Q8_0 activation rows (34-byte blocks), in 512-bit vpdpbusd (AVX512-VNNI),
# which .NET 10 has no intrinsic for. Per token and block b in order, lanes = rows:
#   acc = fma(float(Σ lo·q + Σ hi·q − off[b]), float(d_w) · da[b], acc)     (the sums exact: Q4_0x16Rows' bits)
#
# q4x16_block: the block at rsi, prefetched ahead (24 blocks into L1, 64 into L2), loaded and split: zmm4..7 the low
# nibbles of dwords 0..3, zmm0..3 the high ones, zmm8 the 16 weight scales as f32 (zmm31 = 0x0f bytes).
.macro q4x16_block
  ahead 6912, 18432, 0, 64, 128, 192, 256, 287
  vmovdqu64 zmm0, [rsi + 32]
  vmovdqu64 zmm1, [rsi + 96]
  vmovdqu64 zmm2, [rsi + 160]
  vmovdqu64 zmm3, [rsi + 224]
  vpandd zmm4, zmm0, zmm31
  vpandd zmm5, zmm1, zmm31
  vpandd zmm6, zmm2, zmm31
  vpandd zmm7, zmm3, zmm31
  vpsrlw zmm0, zmm0, 4
  vpsrlw zmm1, zmm1, 4
  vpsrlw zmm2, zmm2, 4
  vpsrlw zmm3, zmm3, 4
  vpandd zmm0, zmm0, zmm31
  vpandd zmm1, zmm1, zmm31
  vpandd zmm2, zmm2, zmm31
  vpandd zmm3, zmm3, zmm31
  vcvtph2ps zmm8, [rsi]
.endm
# q4x16_token a, off, da, lo, hi, tmp, acc: one token's block (activation block at a, its off and da at off and da):
#   two int32 sums (zmm lo, zmm hi: 4 vpdpbusd each), then the float step into zmm acc.
.macro q4x16_token a, off, da, lo, hi, tmp, acc
  vpxord zmm\lo, zmm\lo, zmm\lo
  vpxord zmm\hi, zmm\hi, zmm\hi
  vpdpbusd zmm\lo, zmm4, [\a + 2]{1to16}
  vpdpbusd zmm\hi, zmm0, [\a + 18]{1to16}
  vpdpbusd zmm\lo, zmm5, [\a + 6]{1to16}
  vpdpbusd zmm\hi, zmm1, [\a + 22]{1to16}
  vpdpbusd zmm\lo, zmm6, [\a + 10]{1to16}
  vpdpbusd zmm\hi, zmm2, [\a + 26]{1to16}
  vpdpbusd zmm\lo, zmm7, [\a + 14]{1to16}
  vpdpbusd zmm\hi, zmm3, [\a + 30]{1to16}
  vpaddd zmm\lo, zmm\lo, zmm\hi
  vpsubd zmm\lo, zmm\lo, [\off]{1to16}
  vcvtdq2ps zmm\lo, zmm\lo
  vmulps zmm\tmp, zmm8, [\da]{1to16}
  vfmadd231ps zmm\acc, zmm\lo, zmm\tmp
.endm
# Q4_0x16Args, both kernels': +0 W (block 0), +8 A (token 0, block 0), +16 token stride of A (bytes), +24 off (token 0:
#   int per block, 8·Σq), +32 da (token 0: f32 per block), +40 token stride of off and da (bytes), +48 blocks, +56 y.
# void q4_0x16dot512(Q4_0x16Args* rdi): one group of 16 rows · one activation row (the strides unused); the 16
#   results at y.
.p2align 4, 0xcc
q4_0x16dot512:
  mov rsi, [rdi]
  mov rdx, [rdi + 8]
  mov r8, [rdi + 24]
  mov r9, [rdi + 32]
  mov rcx, [rdi + 48]
  mov r10, [rdi + 56]
  mov eax, 0x0f0f0f0f
  vpbroadcastd zmm31, eax
  vpxord zmm30, zmm30, zmm30
  test rcx, rcx
  jz 9f
8:
  q4x16_block
  q4x16_token rdx, r8, r9, 16, 17, 9, 30
  add rsi, 288
  add rdx, 34
  add r8, 4
  add r9, 4
  dec rcx
  jnz 8b
9:
  vmovups [r10], zmm30
  vzeroupper
  ret
# void q4_0x16x4dot512(Q4_0x16Args* rdi): q4_0x16dot512 for 4 tokens at once, each weight block loaded and split once
#   for the 4; every token's 16 results are q4_0x16dot512's for it; y: 4 × 16 floats, token-major (kept in the red zone).
.p2align 4, 0xcc
q4_0x16x4dot512:
  mov eax, 0x0f0f0f0f
  vpbroadcastd zmm31, eax
  mov rax, [rdi + 56]
  mov [rsp - 8], rax
  mov rsi, [rdi]
  mov rdx, [rdi + 8]
  mov r8, [rdi + 24]
  mov r9, [rdi + 32]
  mov r11, [rdi + 40]
  mov rcx, [rdi + 48]
  mov rdi, [rdi + 16]
  lea r10, [rdi + rdi*2]
  lea rax, [r11 + r11*2]
  vpxord zmm24, zmm24, zmm24
  vpxord zmm25, zmm25, zmm25
  vpxord zmm26, zmm26, zmm26
  vpxord zmm27, zmm27, zmm27
  test rcx, rcx
  jz 9f
8:
  q4x16_block
  q4x16_token rdx, r8, r9, 16, 17, 9, 24
  q4x16_token rdx+rdi, r8+r11, r9+r11, 18, 19, 10, 25
  q4x16_token rdx+rdi*2, r8+r11*2, r9+r11*2, 20, 21, 11, 26
  q4x16_token rdx+r10, r8+rax, r9+rax, 22, 23, 12, 27
  add rsi, 288
  add rdx, 34
  add r8, 4
  add r9, 4
  dec rcx
  jnz 8b
9:
  mov rax, [rsp - 8]
  vmovups [rax], zmm24
  vmovups [rax + 64], zmm25
  vmovups [rax + 128], zmm26
  vmovups [rax + 192], zmm27
  vzeroupper
  ret
