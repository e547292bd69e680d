# MachineCode.s continued: the Q8_0 rows kernel, assembled after it and MachineCode.Q4_0x16.s in one run of GNU as
# (as --64 MachineCode.s MachineCode.Q4_0x16.s MachineCode.Q8_0.s MachineCode.KQuants.s), so the macros MachineCode.s
# defines (ahead) hold here.
.intel_syntax noprefix
.text
# The Q8_0 rows kernel (Q8_0 weights · Q8_0 activations), VecDotQ8_0Q8_0.V256's integer lanes, float steps and final
# sums for two tokens per 512-bit vector (token 2k in the low 8 lanes, 2k + 1 in the high ones). The activations come
# prepared, per pair of tokens and block, 128 bytes: both tokens' 32 codes + 128 (unsigned: vpdpbusd's operand), then
# both d_a, 8 copies each. Per weight block, c = −128 · Σ of each lane's 4 weight codes (exact), so for each token
# lane = vpdpbusd(c, code + 128, w) = Σ code · w exactly, and
#   acc = fma(float(lane), d_w · d_a, acc)      (blocks in order), then
#   y = ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7))      (Q0Order.Hsum8)
# q8_pair acc, lane, codes, d, p: one pair's step (zmm31: 0x80 bytes, zmm4: the weight codes in both halves, zmm5: d_w,
#   zmm6: c; p: the pair's prepared block).
.macro q8_pair acc, lane, codes, d, p
  vmovdqa64 zmm\lane, zmm6
  vmovdqu64 zmm\codes, [\p]
  vpdpbusd zmm\lane, zmm\codes, zmm4
  vcvtdq2ps zmm\lane, zmm\lane
  vmulps zmm\d, zmm5, [\p + 64]
  vfmadd231ps zmm\acc, zmm\lane, zmm\d
.endm
# q8_finish acc: both tokens' sums of zmm acc to [rax] and [rax + r10], then rax advances two tokens.
.macro q8_finish acc
  vshuff32x4 zmm8, zmm\acc, zmm\acc, 0xb1
  vaddps zmm8, zmm8, zmm\acc
  vpermilps zmm9, zmm8, 0x4e
  vaddps zmm8, zmm8, zmm9
  vmovshdup zmm9, zmm8
  vaddps zmm8, zmm8, zmm9
  vmovss [rax], xmm8
  vextractf32x4 xmm9, zmm8, 2
  vmovss [rax + r10], xmm9
  lea rax, [rax + r10*2]
.endm
# q8_group n: n (1..4) pairs of tokens (prepared from r11, y from rbp) against every row (r9: row index).
.macro q8_group n
  mov r8, [rdi]
  xor r9d, r9d
5:
  mov rsi, r8
  mov rdx, r11
  mov rcx, r15
  vpxord zmm0, zmm0, zmm0
  vpxord zmm1, zmm1, zmm1
  vpxord zmm2, zmm2, zmm2
  vpxord zmm3, zmm3, zmm3
6:
  ahead 4096, 16384, 0
  vbroadcasti64x4 zmm4, [rsi + 2]
  movzx eax, word ptr [rsi]
  vbroadcastss zmm5, [r14 + rax*4]
  vpxord zmm6, zmm6, zmm6
  vpdpbusd zmm6, zmm31, zmm4
  vpsubd zmm6, zmm7, zmm6
  q8_pair 0, 10, 14, 18, rdx
  .if \n > 1
  q8_pair 1, 11, 15, 19, rdx+r12
  .endif
  .if \n > 2
  q8_pair 2, 12, 16, 20, rdx+r12*2
  .endif
  .if \n > 3
  q8_pair 3, 13, 17, 21, rdx+rbx
  .endif
  add rsi, 34
  sub rdx, -128
  dec rcx
  jnz 6b
  lea rax, [rbp + r9*4]
  q8_finish 0
  .if \n > 1
  q8_finish 1
  .endif
  .if \n > 2
  q8_finish 2
  .endif
  .if \n > 3
  q8_finish 3
  .endif
  add r8, [rdi + 8]
  inc r9
  cmp r9, [rdi + 16]
  jb 5b
.endm
# void q8_0dots512(Q8_0Args* rdi): the pairs in groups of 4 (the last of 1..3), each group against every row, so its
#   prepared activations (512 bytes per block) stay in L1 while the rows pass.
# Q8_0Args: +0 W (row 0: blocks of 34 bytes, f16 d_w then 32 codes), +8 row stride (bytes), +16 rows (≥ 1), +24 the
#   prepared pairs (pair 0), +32 pairs (≥ 1), +40 blocks (≥ 1), +48 y (row 0 of token 0), +56 token stride of y (bytes),
#   +64 the f16 → f32 table. The pair stride is blocks · 128 bytes.
.p2align 4, 0xcc
q8_0dots512:
  x16_enter
  mov eax, 0x80808080
  vpbroadcastd zmm31, eax
  vpxord zmm7, zmm7, zmm7
  mov r11, [rdi + 24]
  mov r13, [rdi + 32]
  mov r15, [rdi + 40]
  mov r12, r15
  shl r12, 7
  lea rbx, [r12 + r12*2]
  mov rbp, [rdi + 48]
  mov r10, [rdi + 56]
  mov r14, [rdi + 64]
1:
  cmp r13, 4
  jb 2f
  q8_group 4
  lea r11, [r11 + r12*4]
  lea rbp, [rbp + r10*8]
  sub r13, 4
  jnz 1b
  jmp 9f
2:
  cmp r13, 2
  ja 3f
  je 4f
  q8_group 1
  jmp 9f
3:
  q8_group 3
  jmp 9f
4:
  q8_group 2
9:
  x16_leave
