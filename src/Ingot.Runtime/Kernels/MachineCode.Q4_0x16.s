# MachineCode.s continued: the Q4_0 kernels of Ingot's interleaved layout, assembled after it in one run of GNU as
# (as --64 MachineCode.s MachineCode.Q4_0x16.s MachineCode.Q8_0.s MachineCode.KQuants.s), so the macros MachineCode.s
# defines (ahead) hold here.
.intel_syntax noprefix
.text
# The Q4_0 kernels of Ingot's interleaved layout (16 rows per group; per block: 16 f16 scales, then code dword k of
# the 16 rows for k = 0..3, 288 bytes) against Q8_0 activation rows (34-byte blocks), in 512-bit vpdpbusd (AVX512-VNNI),
# which .NET 10 has no intrinsic for. Per token and block b in order, lanes = rows:
#   acc = fma(float(noff[b] + Σ lo·q + Σ hi·q), float(d_w) · da[b], acc)     (the sums exact: Q4_0x16Rows' bits)
# where noff[b] = −8·Σq is the token's code offset (the codes are unsigned: Σ(c − 8)·q = Σc·q − 8·Σq), which starts the
# sum in place of a zero.
#
# q4x16_block: the block at rsi, prefetched ahead (24 blocks into L1, 64 into L2; on AMD Zen 4 the runtime overwrites
#   q4_0x16dot512's prefetches with NOPs: MachineCode.Q4_0x16DecodePrefetches), loaded and split: zmm4..7 the low
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
# q4x16_token a, off, da, lo, hi, tmp, acc: one token's block (activation block at a, its noff and da at off and da):
#   two int32 sums (zmm lo from noff, zmm hi from 0: 4 vpdpbusd each), then the float step into zmm acc.
.macro q4x16_token a, off, da, lo, hi, tmp, acc
  vpbroadcastd zmm\lo, [\off]
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
  vcvtdq2ps zmm\lo, zmm\lo
  vmulps zmm\tmp, zmm8, [\da]{1to16}
  vfmadd231ps zmm\acc, zmm\lo, zmm\tmp
.endm
# q4x16_args base: the multi-token kernels' arguments at base but W: rdx A (token 0), r8 noff, r9 da, rcx blocks, rdi /
#   r11 the token strides of A / of noff and da, r10 / rax three of them (rdi read last: it may hold the Args pointer).
.macro q4x16_args base
  mov rdx, [\base + 8]
  mov r8, [\base + 24]
  mov r9, [\base + 32]
  mov r11, [\base + 40]
  mov rcx, [\base + 48]
  mov rdi, [\base + 16]
  lea r10, [rdi + rdi*2]
  lea rax, [r11 + r11*2]
.endm
# Q4_0x16Args, the three kernels': +0 W (block 0), +8 A (token 0, block 0), +16 token stride of A (bytes), +24 noff (token 0:
#   int per block, −8·Σq), +32 da (token 0: f32 per block), +40 token stride of off and da (bytes), +48 blocks, +56 y;
#   the 8-token kernel's also +64 token stride of y (bytes), +72 groups.
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
  q4x16_args rdi
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
# void q4_0x16x8dot512(Q4_0x16Args* rdi): q4_0x16dot512 for 8 tokens at once (batched decode streams), each weight
#   block loaded and split once for the 8; every token's 16 results are q4_0x16dot512's for it. It runs every group
#   of the call (+72 groups: W's groups follow each other, blocks · 288 bytes each) and stores token t's 16 results of
#   group g at y + t · (+64 token stride of y, bytes) + 64 · g. Tokens 4..7 are addressed from rdx/r8/r9 moved 4 tokens
#   on (rbx, r12, r13); r15 keeps the arguments, rbp y's token stride, [rsp] the groups left.
.p2align 4, 0xcc
q4_0x16x8dot512:
  push rbx
  push r12
  push r13
  push r14
  push r15
  push rbp
  mov r15, rdi
  mov eax, 0x0f0f0f0f
  vpbroadcastd zmm31, eax
  mov rsi, [r15]
  mov r14, [r15 + 56]
  mov rbp, [r15 + 64]
  push qword ptr [r15 + 72]
7:
  q4x16_args r15
  lea rbx, [rdx + rdi*4]
  lea r12, [r8 + r11*4]
  lea r13, [r9 + r11*4]
  vpxord zmm16, zmm16, zmm16
  vpxord zmm17, zmm17, zmm17
  vpxord zmm18, zmm18, zmm18
  vpxord zmm19, zmm19, zmm19
  vpxord zmm20, zmm20, zmm20
  vpxord zmm21, zmm21, zmm21
  vpxord zmm22, zmm22, zmm22
  vpxord zmm23, zmm23, zmm23
  test rcx, rcx
  jz 9f
8:
  q4x16_block
  q4x16_token rdx, r8, r9, 9, 10, 11, 16
  q4x16_token rdx+rdi, r8+r11, r9+r11, 12, 13, 14, 17
  q4x16_token rdx+rdi*2, r8+r11*2, r9+r11*2, 15, 24, 25, 18
  q4x16_token rdx+r10, r8+rax, r9+rax, 26, 27, 28, 19
  q4x16_token rbx, r12, r13, 9, 10, 11, 20
  q4x16_token rbx+rdi, r12+r11, r13+r11, 12, 13, 14, 21
  q4x16_token rbx+rdi*2, r12+r11*2, r13+r11*2, 15, 24, 25, 22
  q4x16_token rbx+r10, r12+rax, r13+rax, 26, 27, 28, 23
  add rsi, 288
  add rdx, 34
  add rbx, 34
  add r8, 4
  add r9, 4
  add r12, 4
  add r13, 4
  dec rcx
  jnz 8b
9:
  vmovups [r14], zmm16
  vmovups [r14 + rbp], zmm17
  vmovups [r14 + rbp*2], zmm18
  lea rax, [r14 + rbp*2]
  vmovups [rax + rbp], zmm19
  lea rax, [r14 + rbp*4]
  vmovups [rax], zmm20
  vmovups [rax + rbp], zmm21
  vmovups [rax + rbp*2], zmm22
  lea rax, [rax + rbp*2]
  vmovups [rax + rbp], zmm23
  add r14, 64
  dec qword ptr [rsp]
  jnz 7b
  pop rax
  vzeroupper
  pop rbp
  pop r15
  pop r14
  pop r13
  pop r12
  pop rbx
  ret
