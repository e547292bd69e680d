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
# x16_enter, x16_leave: the entry and return of the kernels that save rbx, rbp and r12..r15 (q8_0dots512 and the x16
#   kernels; vzeroupper on the way out).
.macro x16_enter
  push rbx
  push rbp
  push r12
  push r13
  push r14
  push r15
.endm
.macro x16_leave
  vzeroupper
  pop r15
  pop r14
  pop r13
  pop r12
  pop rbp
  pop rbx
  ret
.endm
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
# void f16tile512(F16Args* rdi): f16dots512's accumulators, 2 rows × 4 tokens at a time (rows a multiple of 2, tokens
#   of 4): each weight vector converted once for 4 tokens, each activation vector loaded once for 2 rows, 8 pairs'
#   accumulators in zmm0..15 (pair (r, t): zmm 8r + 2t, 8r + 2t + 1), the same one FMA per step in step order, so
#   the same bits; stored where f16dots512 stores them. Token groups outer (their activations stay in L1), row pairs
#   inner (the call's weights in L2).
.p2align 4, 0xcc
f16tile512:
  push r12
  push r13
  push r14
  push r15
  mov r15, [rdi + 8]
  mov r12, [rdi + 32]
  mov rax, [rdi + 24]
  mov r13, [rdi + 40]
  mov r14, r13
  shl r14, 7
  mov r10, [rdi + 56]
1:
  mov r8, [rdi]
  mov r9, [rdi + 16]
  push r10
2:
  vxorps xmm0, xmm0, xmm0
  vxorps xmm1, xmm1, xmm1
  vxorps xmm2, xmm2, xmm2
  vxorps xmm3, xmm3, xmm3
  vxorps xmm4, xmm4, xmm4
  vxorps xmm5, xmm5, xmm5
  vxorps xmm6, xmm6, xmm6
  vxorps xmm7, xmm7, xmm7
  vxorps xmm8, xmm8, xmm8
  vxorps xmm9, xmm9, xmm9
  vxorps xmm10, xmm10, xmm10
  vxorps xmm11, xmm11, xmm11
  vxorps xmm12, xmm12, xmm12
  vxorps xmm13, xmm13, xmm13
  vxorps xmm14, xmm14, xmm14
  vxorps xmm15, xmm15, xmm15
  mov rsi, r8
  mov rdx, rax
  mov rcx, [rdi + 48]
  test rcx, rcx
  jz 4f
3:
  prefetcht0 [rsi + 512]
  prefetcht0 [rsi + r15 + 512]
  vcvtph2ps zmm16, [rsi]
  vcvtph2ps zmm17, [rsi + 32]
  vcvtph2ps zmm18, [rsi + r15]
  vcvtph2ps zmm19, [rsi + r15 + 32]
  lea r11, [rdx + r12*2]
  vmovups zmm20, [rdx]
  vmovups zmm21, [rdx + 64]
  vmovups zmm22, [rdx + r12]
  vmovups zmm23, [rdx + r12 + 64]
  vmovups zmm24, [r11]
  vmovups zmm25, [r11 + 64]
  vmovups zmm26, [r11 + r12]
  vmovups zmm27, [r11 + r12 + 64]
  vfmadd231ps zmm0, zmm16, zmm20
  vfmadd231ps zmm1, zmm17, zmm21
  vfmadd231ps zmm2, zmm16, zmm22
  vfmadd231ps zmm3, zmm17, zmm23
  vfmadd231ps zmm4, zmm16, zmm24
  vfmadd231ps zmm5, zmm17, zmm25
  vfmadd231ps zmm6, zmm16, zmm26
  vfmadd231ps zmm7, zmm17, zmm27
  vfmadd231ps zmm8, zmm18, zmm20
  vfmadd231ps zmm9, zmm19, zmm21
  vfmadd231ps zmm10, zmm18, zmm22
  vfmadd231ps zmm11, zmm19, zmm23
  vfmadd231ps zmm12, zmm18, zmm24
  vfmadd231ps zmm13, zmm19, zmm25
  vfmadd231ps zmm14, zmm18, zmm26
  vfmadd231ps zmm15, zmm19, zmm27
  add rsi, 64
  add rdx, 128
  dec rcx
  jnz 3b
4:
  lea r11, [r10 + r14]
  vmovups [r10], zmm0
  vmovups [r10 + 64], zmm1
  vmovups [r10 + 128], zmm2
  vmovups [r10 + 192], zmm3
  vmovups [r10 + 256], zmm4
  vmovups [r10 + 320], zmm5
  vmovups [r10 + 384], zmm6
  vmovups [r10 + 448], zmm7
  vmovups [r11], zmm8
  vmovups [r11 + 64], zmm9
  vmovups [r11 + 128], zmm10
  vmovups [r11 + 192], zmm11
  vmovups [r11 + 256], zmm12
  vmovups [r11 + 320], zmm13
  vmovups [r11 + 384], zmm14
  vmovups [r11 + 448], zmm15
  lea r10, [r10 + r14*2]
  lea r8, [r8 + r15*2]
  sub r9, 2
  jnz 2b
  pop r10
  add r10, 512
  lea rax, [rax + r12*4]
  sub r13, 4
  jnz 1b
  vzeroupper
  pop r15
  pop r14
  pop r13
  pop r12
  ret
