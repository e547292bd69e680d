# MachineCode.s continued: the Q6_K rows kernel with 16 weight rows in the lanes of a 512-bit vector (batched decode
#   streams, short prefills), assembled after MachineCode.KQuants.s in the same run of GNU as
#   (as --64 MachineCode.s MachineCode.Q4_0x16.s MachineCode.Q8_0.s MachineCode.KQuants.s MachineCode.Q6_Kx16.s).
.intel_syntax noprefix
.text
# The transposes of 16 rows of 16 dwords (vector i = dword i of rows 0..15 in lanes 0..15): four stages of 16
#   shuffles, dword and qword unpacks within 128-bit lanes, then two vshufi32x4 rounds across them.
# q6x16_load16 disp, ins, sfx: zmm r = the 64 bytes at row r + disp by ins (rows at rax, rax + rdx, ...; rdx the row
#   stride, r10 = 3·rdx; sfx a mask, so that nothing past the rows is read). Moves rax on 12 rows.
.macro q6x16_load16 disp, ins=vmovdqu64, sfx=
  \ins zmm0\sfx, [rax + \disp]
  \ins zmm1\sfx, [rax + rdx + \disp]
  \ins zmm2\sfx, [rax + rdx*2 + \disp]
  \ins zmm3\sfx, [rax + r10 + \disp]
  lea rax, [rax + rdx*4]
  \ins zmm4\sfx, [rax + \disp]
  \ins zmm5\sfx, [rax + rdx + \disp]
  \ins zmm6\sfx, [rax + rdx*2 + \disp]
  \ins zmm7\sfx, [rax + r10 + \disp]
  lea rax, [rax + rdx*4]
  \ins zmm8\sfx, [rax + \disp]
  \ins zmm9\sfx, [rax + rdx + \disp]
  \ins zmm10\sfx, [rax + rdx*2 + \disp]
  \ins zmm11\sfx, [rax + r10 + \disp]
  lea rax, [rax + rdx*4]
  \ins zmm12\sfx, [rax + \disp]
  \ins zmm13\sfx, [rax + rdx + \disp]
  \ins zmm14\sfx, [rax + rdx*2 + \disp]
  \ins zmm15\sfx, [rax + r10 + \disp]
.endm
# q6x16_stage12: the two unpack stages, zmm0..15 → zmm16..31 → zmm0..15 (B[4q + m], 128-bit lane L = dword 4L + m of rows
#   4q .. 4q + 3).
.macro q6x16_stage12
  vpunpckldq zmm16, zmm0, zmm1
  vpunpckhdq zmm17, zmm0, zmm1
  vpunpckldq zmm18, zmm2, zmm3
  vpunpckhdq zmm19, zmm2, zmm3
  vpunpckldq zmm20, zmm4, zmm5
  vpunpckhdq zmm21, zmm4, zmm5
  vpunpckldq zmm22, zmm6, zmm7
  vpunpckhdq zmm23, zmm6, zmm7
  vpunpckldq zmm24, zmm8, zmm9
  vpunpckhdq zmm25, zmm8, zmm9
  vpunpckldq zmm26, zmm10, zmm11
  vpunpckhdq zmm27, zmm10, zmm11
  vpunpckldq zmm28, zmm12, zmm13
  vpunpckhdq zmm29, zmm12, zmm13
  vpunpckldq zmm30, zmm14, zmm15
  vpunpckhdq zmm31, zmm14, zmm15
  vpunpcklqdq zmm0, zmm16, zmm18
  vpunpckhqdq zmm1, zmm16, zmm18
  vpunpcklqdq zmm2, zmm17, zmm19
  vpunpckhqdq zmm3, zmm17, zmm19
  vpunpcklqdq zmm4, zmm20, zmm22
  vpunpckhqdq zmm5, zmm20, zmm22
  vpunpcklqdq zmm6, zmm21, zmm23
  vpunpckhqdq zmm7, zmm21, zmm23
  vpunpcklqdq zmm8, zmm24, zmm26
  vpunpckhqdq zmm9, zmm24, zmm26
  vpunpcklqdq zmm10, zmm25, zmm27
  vpunpckhqdq zmm11, zmm25, zmm27
  vpunpcklqdq zmm12, zmm28, zmm30
  vpunpckhqdq zmm13, zmm28, zmm30
  vpunpcklqdq zmm14, zmm29, zmm31
  vpunpckhqdq zmm15, zmm29, zmm31
.endm
# q6x16_stage34: the two vshufi32x4 rounds, zmm0..15 → zmm16..31 → zmm0..15 = the 16 columns, stored at rbx + 64·i.
.macro q6x16_stage34
  vshufi32x4 zmm16, zmm0, zmm4, 0x88
  vshufi32x4 zmm17, zmm0, zmm4, 0xdd
  vshufi32x4 zmm18, zmm8, zmm12, 0x88
  vshufi32x4 zmm19, zmm8, zmm12, 0xdd
  vshufi32x4 zmm20, zmm1, zmm5, 0x88
  vshufi32x4 zmm21, zmm1, zmm5, 0xdd
  vshufi32x4 zmm22, zmm9, zmm13, 0x88
  vshufi32x4 zmm23, zmm9, zmm13, 0xdd
  vshufi32x4 zmm24, zmm2, zmm6, 0x88
  vshufi32x4 zmm25, zmm2, zmm6, 0xdd
  vshufi32x4 zmm26, zmm10, zmm14, 0x88
  vshufi32x4 zmm27, zmm10, zmm14, 0xdd
  vshufi32x4 zmm28, zmm3, zmm7, 0x88
  vshufi32x4 zmm29, zmm3, zmm7, 0xdd
  vshufi32x4 zmm30, zmm11, zmm15, 0x88
  vshufi32x4 zmm31, zmm11, zmm15, 0xdd
  vshufi32x4 zmm0, zmm16, zmm18, 0x88
  vshufi32x4 zmm8, zmm16, zmm18, 0xdd
  vshufi32x4 zmm4, zmm17, zmm19, 0x88
  vshufi32x4 zmm12, zmm17, zmm19, 0xdd
  vshufi32x4 zmm1, zmm20, zmm22, 0x88
  vshufi32x4 zmm9, zmm20, zmm22, 0xdd
  vshufi32x4 zmm5, zmm21, zmm23, 0x88
  vshufi32x4 zmm13, zmm21, zmm23, 0xdd
  vshufi32x4 zmm2, zmm24, zmm26, 0x88
  vshufi32x4 zmm10, zmm24, zmm26, 0xdd
  vshufi32x4 zmm6, zmm25, zmm27, 0x88
  vshufi32x4 zmm14, zmm25, zmm27, 0xdd
  vshufi32x4 zmm3, zmm28, zmm30, 0x88
  vshufi32x4 zmm11, zmm28, zmm30, 0xdd
  vshufi32x4 zmm7, zmm29, zmm31, 0x88
  vshufi32x4 zmm15, zmm29, zmm31, 0xdd
  vmovdqa64 [rbx + 0], zmm0
  vmovdqa64 [rbx + 64], zmm1
  vmovdqa64 [rbx + 128], zmm2
  vmovdqa64 [rbx + 192], zmm3
  vmovdqa64 [rbx + 256], zmm4
  vmovdqa64 [rbx + 320], zmm5
  vmovdqa64 [rbx + 384], zmm6
  vmovdqa64 [rbx + 448], zmm7
  vmovdqa64 [rbx + 512], zmm8
  vmovdqa64 [rbx + 576], zmm9
  vmovdqa64 [rbx + 640], zmm10
  vmovdqa64 [rbx + 704], zmm11
  vmovdqa64 [rbx + 768], zmm12
  vmovdqa64 [rbx + 832], zmm13
  vmovdqa64 [rbx + 896], zmm14
  vmovdqa64 [rbx + 960], zmm15
.endm
# x16_first_mask: k2 = all lanes but in a group's first super-block (r11, counting down, at its start value [rdi + 64]),
#   none there: the x16 K-quant kernels load their accumulators through it zero-masked, which gives the +0 that zeroed
#   accumulators held without storing them (q6_kx16dots512: 64 stores per group of 8 tokens, 8 % of its samples on
#   Zen 4, where a 512-bit store takes the store port two cycles; q4_kx16dots512: 12 per token and group).
.macro x16_first_mask
  xor eax, eax
  mov ecx, 0xffff
  cmp r11, [rdi + 64]
  cmovne eax, ecx
  kmovw k2, eax
.endm
# x16_pairs_fma: one lane and token of the x16 K-quant kernels (q6_kx16dots512, q4_kx16dots512): the 8 groups' exact
#   sums in zmm16..23 (each within 16 bits) packed in pairs, group 2m's in the low word and 2m + 1's in the high one
#   (ternlog 0xec: B | A & C; zmm12 = 0x0000ffff dwords), one vpmaddwd / vpdpwssd applying both scales (the word pairs
#   in zmm8..11), then acc at [rbx] = fma(float(lane), [rbx + r9], acc). mask: on acc's load (q6_kx16dots512's k2,
#   zero-masked: +0 in a group's first super-block).
.macro x16_pairs_fma mask=
  vpslld zmm17, zmm17, 16
  vpslld zmm19, zmm19, 16
  vpslld zmm21, zmm21, 16
  vpslld zmm23, zmm23, 16
  vpternlogd zmm16, zmm17, zmm12, 0xec
  vpternlogd zmm18, zmm19, zmm12, 0xec
  vpternlogd zmm20, zmm21, zmm12, 0xec
  vpternlogd zmm22, zmm23, zmm12, 0xec
  vpmaddwd zmm24, zmm16, zmm8
  vpmaddwd zmm25, zmm20, zmm10
  vpdpwssd zmm24, zmm18, zmm9
  vpdpwssd zmm25, zmm22, zmm11
  vpaddd zmm24, zmm24, zmm25
  vcvtdq2ps zmm24, zmm24
  vmovaps zmm25\mask, [rbx]
  vfmadd231ps zmm25, zmm24, [rbx + r9]
  vmovaps [rbx], zmm25
.endm
# x16_hsum8 off: zmm0 = ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)) of a token's 8 lane accumulators at rbx + off +
#   64·i (Q0Order.Hsum8 for 16 rows). Uses zmm1..3.
.macro x16_hsum8 off
  vmovaps zmm0, [rbx + \off]
  vmovaps zmm1, [rbx + \off + 64]
  vmovaps zmm2, [rbx + \off + 128]
  vmovaps zmm3, [rbx + \off + 192]
  vaddps zmm0, zmm0, [rbx + \off + 256]
  vaddps zmm1, zmm1, [rbx + \off + 320]
  vaddps zmm2, zmm2, [rbx + \off + 384]
  vaddps zmm3, zmm3, [rbx + \off + 448]
  vaddps zmm0, zmm0, zmm2
  vaddps zmm1, zmm1, zmm3
  vaddps zmm0, zmm0, zmm1
.endm
# x16_begin acc, bytes, vectors: the K-quant x16 kernels' entry and group start: x16_enter; rbp the scratch, r8 group
#   0's rows, r15 y, r9 the group count; at label 1 (x16_next_group's target) the group count and y pushed, each
#   token's accumulators zeroed (the listed vectors of its bytes at rbp + acc, tokens bytes apart; none listed, none
#   zeroed), rsi the group's rows, r12 A, r13 the prepared sums, r11 the super-block count.
.macro x16_begin acc, bytes, vectors:vararg
  x16_enter
  mov rbp, [rdi + 72]
  mov r8, [rdi]
  mov r15, [rdi + 80]
  mov r9, [rdi + 16]
1:
  push r9
  push r15
  .ifnb \vectors
  mov rcx, [rdi + 56]
  lea rbx, [rbp + \acc]
  vpxord zmm0, zmm0, zmm0
5:
  .irp i, \vectors
  vmovdqa64 [rbx + 64*\i], zmm0
  .endr
  add rbx, \bytes
  dec rcx
  jnz 5b
  .endif
  mov rsi, r8
  mov r12, [rdi + 24]
  mov r13, [rdi + 40]
  mov r11, [rdi + 64]
.endm
# x16_next_group: the group loop's end in the K-quant x16 kernels: r8 16 rows on, y (r15) 16 floats on, the group count
#   (pushed at label 1) down, back to 1 while groups remain.
.macro x16_next_group
  mov rax, [rdi + 8]
  shl rax, 4
  add r8, rax
  add r15, 64
  pop r9
  dec r9
  jnz 1b
.endm
# q6x16_codes qa, qb, qh, c0..c3: half j's four groups' codes for lane l of the 16 rows (rax = the transposed
#   vectors + 64·l; qa, qb: ql dwords 16j + l and 16j + 8 + l, qh: qh dword 8j + l), as Half256.Codes forms them:
#   k = 0: qa & 15 | qh << 4 & 0x30, 1: qb & 15 | qh << 2 & 0x30, 2: qa >> 4 | qh & 0x30, 3: qb >> 4 | qh >> 2 & 0x30
#   (16-bit shifts: the bits that cross bytes land outside the masks). zmm31 = 0x0f bytes, zmm30 = 0x30 bytes.
.macro q6x16_codes qa, qb, qh, c0, c1, c2, c3
  vmovdqa64 zmm\c0, [rax + \qa]
  vmovdqa64 zmm\c1, [rax + \qb]
  vmovdqa64 zmm26, [rax + \qh]
  vpsrlw zmm\c2, zmm\c0, 4
  vpsrlw zmm\c3, zmm\c1, 4
  vpsllw zmm27, zmm26, 4
  vpsllw zmm28, zmm26, 2
  vpsrlw zmm29, zmm26, 2
  vpandd zmm27, zmm27, zmm30
  vpandd zmm28, zmm28, zmm30
  vpandd zmm26, zmm26, zmm30
  vpandd zmm29, zmm29, zmm30
  vpternlogd zmm\c0, zmm31, zmm27, 0xea
  vpternlogd zmm\c1, zmm31, zmm28, 0xea
  vpternlogd zmm\c2, zmm31, zmm26, 0xea
  vpternlogd zmm\c3, zmm31, zmm29, 0xea
.endm
# q6x16_scales m: the super-block's scales 4m .. 4m + 3 of the 16 rows (transposed dwords in zmm v) as the word pairs
#   vpmaddwd / vpdpwssd multiply two groups' packed sums by: (s(4m), s(4m + 2)) at rbp + 3072 + 128·m, (s(4m + 1),
#   s(4m + 3)) 64 bytes on; for lane l, groups c = 2m and 2m + 1 use scales 2c + l / 4, the first pair for l < 4.
.macro q6x16_scales m, v
  vpsllw zmm25, zmm\v, 8
  vpsraw zmm25, zmm25, 8
  vpsraw zmm26, zmm\v, 8
  vmovdqa64 [rbp + 3072 + 128*\m], zmm25
  vmovdqa64 [rbp + 3072 + 128*\m + 64], zmm26
.endm
# void q6_kx16dots512(Q6_Kx16Args* rdi): Q6_K weight rows · Q8_K activation rows, 16 rows per 512-bit vector (lane r =
#   row r of a group), every (row, token) with VecDotQ6_KQ8_K.Row's integer lanes and float steps. Per group of 16 rows
#   and super-block: the rows' ql and qh transposed (48 vectors of 16 rows' dword i), their scales and d transposed too;
#   then for each of ggml's 8 lanes l (bytes 4l .. 4l+3 of each group of 32) the 8 groups' codes decoded once for all
#   the tokens, and per token:
#     lane = Σ_c s(2c + l / 4) · (Σ code·q8 − 32·Σq8)     (exact, over the 4 bytes of group c at lane l)
#   where the sum of group c fits in 16 bits (|Σ(code − 32)·q8| ≤ 4 · 32 · 128), so groups 2m and 2m + 1 are packed into
#   the words of one dword and one vpmaddwd / vpdpwssd applies both scales: 4 multiplies per lane and token, not 8
#     acc[l] = fma(float(lane), d_w · d_a, acc[l])
#   then y = ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7))   (Q0Order.Hsum8).
# Q6_Kx16Args: +0 W (row 0 of group 0), +8 row stride (bytes), +16 groups (≥ 1), +24 A (token 0: Q8_K blocks of 292
#   bytes), +32 token stride of A, +40 N (token 0: −32 · the sums of 4 q8, 64 int32 per super-block: group c, lane l
#   at 8c + l), +48 token stride of N, +56 tokens (1 .. 32), +64 super-blocks (≥ 1), +72 scratch (64-byte aligned,
#   22592 bytes), +80 y (row 0 of token 0), +88 token stride of y (bytes).
# Scratch: +0 the transposed ql (32 vectors) and qh (16), +3072 the 8 scale-pair vectors, +4160
#   per token 576 bytes: d_w · d_a, then acc[0..7].
.p2align 4, 0xcc
q6_kx16dots512:
  x16_begin 4160, 576
2:
  x16_first_mask # for x16_pairs_fma's loads of the lane accumulators
  mov rdx, [rdi + 8]
  lea r10, [rdx + rdx*2]
  # the next group's rows (16 row strides on): a super-block's share (16 · 210 bytes) per super-block, 7 lines per lane
  #   step of phase 2 (r15)
  mov r15, [rdi + 64]
  sub r15, r11
  imul r15, r15, 3360
  add r15, r8
  mov rcx, rdx
  shl rcx, 4
  add r15, rcx
  # the scales and d of the 16 rows (bytes 192 .. 209: 9 words, so nothing past the super-block is read) transposed:
  #   zmm m = scales 4m .. 4m + 3 of each row (m < 4), zmm24 = d in each row's low word
  mov eax, 0x1ff
  kmovd k1, eax
  mov rax, rsi
  q6x16_load16 192, vmovdqu16, "{k1}{z}"
  q6x16_stage12
  # q6x16_stage34's shuffles for columns 0..4 only
  vshufi32x4 zmm16, zmm0, zmm4, 0x88
  vshufi32x4 zmm17, zmm8, zmm12, 0x88
  vshufi32x4 zmm18, zmm1, zmm5, 0x88
  vshufi32x4 zmm19, zmm9, zmm13, 0x88
  vshufi32x4 zmm20, zmm2, zmm6, 0x88
  vshufi32x4 zmm21, zmm10, zmm14, 0x88
  vshufi32x4 zmm22, zmm3, zmm7, 0x88
  vshufi32x4 zmm23, zmm11, zmm15, 0x88
  vshufi32x4 zmm26, zmm0, zmm4, 0xdd
  vshufi32x4 zmm27, zmm8, zmm12, 0xdd
  vshufi32x4 zmm0, zmm16, zmm17, 0x88
  vshufi32x4 zmm1, zmm18, zmm19, 0x88
  vshufi32x4 zmm2, zmm20, zmm21, 0x88
  vshufi32x4 zmm3, zmm22, zmm23, 0x88
  vshufi32x4 zmm24, zmm26, zmm27, 0x88
  q6x16_scales 0, 0
  q6x16_scales 1, 1
  q6x16_scales 2, 2
  q6x16_scales 3, 3
  # d_w, times each token's d_a
  vpmovdw ymm24, zmm24
  vcvtph2ps zmm24, ymm24
  mov rcx, [rdi + 56]
  mov rax, r12
  lea rbx, [rbp + 4160]
6:
  vmulps zmm25, zmm24, [rax]{1to16}
  vmovaps [rbx], zmm25
  add rax, [rdi + 32]
  add rbx, 576
  dec rcx
  jnz 6b
  # ql (dwords 0..31) and qh (32..47) transposed, 16 dwords a pass: vector i at rbp + 64·i
  xor ecx, ecx
  mov rbx, rbp
9:
  lea rax, [rsi + rcx]
  q6x16_load16 0
  q6x16_stage12
  q6x16_stage34
  add rcx, 64
  add rbx, 1024
  cmp rcx, 192
  jb 9b
  mov eax, 0x0f0f0f0f
  vpbroadcastd zmm31, eax
  mov eax, 0x30303030
  vpbroadcastd zmm30, eax
  # zmm12 = 0x0000ffff dwords: the low word of a packed pair
  mov eax, 0xffff
  vpbroadcastd zmm12, eax
  xor r14d, r14d
3:
  .irp i, 0, 1, 2, 3, 4, 5, 6
  prefetcht0 [r15 + 64*\i]
  .endr
  add r15, 448
  mov rax, r14
  shl rax, 4
  add rax, rbp
  q6x16_codes 0, 512, 2048, 0, 1, 2, 3
  q6x16_codes 1024, 1536, 2560, 4, 5, 6, 7
  xor ebx, ebx
  cmp r14, 16
  setae bl
  shl ebx, 6
  lea rbx, [rbp + rbx + 3072]
  vmovdqa64 zmm8, [rbx]
  vmovdqa64 zmm9, [rbx + 128]
  vmovdqa64 zmm10, [rbx + 256]
  vmovdqa64 zmm11, [rbx + 384]
  mov rcx, [rdi + 56]
  lea rax, [r12 + r14 + 4]
  lea rdx, [r13 + r14]
  mov rbx, r14
  shl rbx, 4
  lea rbx, [rbp + rbx + 4224]
  mov r9, r14
  shl r9, 4
  neg r9
  sub r9, 64
4:
  vpbroadcastd zmm16, [rdx + 0]
  vpdpbusd zmm16, zmm0, [rax + 0]{1to16}
  vpbroadcastd zmm17, [rdx + 32]
  vpdpbusd zmm17, zmm1, [rax + 32]{1to16}
  vpbroadcastd zmm18, [rdx + 64]
  vpdpbusd zmm18, zmm2, [rax + 64]{1to16}
  vpbroadcastd zmm19, [rdx + 96]
  vpdpbusd zmm19, zmm3, [rax + 96]{1to16}
  vpbroadcastd zmm20, [rdx + 128]
  vpdpbusd zmm20, zmm4, [rax + 128]{1to16}
  vpbroadcastd zmm21, [rdx + 160]
  vpdpbusd zmm21, zmm5, [rax + 160]{1to16}
  vpbroadcastd zmm22, [rdx + 192]
  vpdpbusd zmm22, zmm6, [rax + 192]{1to16}
  vpbroadcastd zmm23, [rdx + 224]
  vpdpbusd zmm23, zmm7, [rax + 224]{1to16}
  x16_pairs_fma "{k2}{z}"
  add rax, [rdi + 32]
  add rdx, [rdi + 48]
  add rbx, 576
  dec rcx
  jnz 4b
  add r14, 4
  cmp r14, 32
  jb 3b
  add rsi, 210
  add r12, 292
  add r13, 256
  dec r11
  jnz 2b
  # y[t][16 rows] = Hsum8 of the token's 8 accumulators
  pop r15
  mov rcx, [rdi + 56]
  lea rbx, [rbp + 4224]
  mov rax, r15
7:
  x16_hsum8 0
  prefetchw [rax + 64]
  vmovups [rax], zmm0
  add rax, [rdi + 88]
  add rbx, 576
  dec rcx
  jnz 7b
  x16_next_group
  x16_leave
