# MachineCode.s continued: the Q4_K rows kernel with 16 weight rows in the lanes of a 512-bit vector (prefills, batched
#   decode streams), assembled after MachineCode.F16Widen.s in the run of GNU as (as --64 MachineCode.s MachineCode.Q4_0x16.s MachineCode.Q8_0.s
#   MachineCode.KQuants.s MachineCode.Q6_Kx16.s MachineCode.F16Widen.s MachineCode.Q4_Kx16.s MachineCode.Q8_0x16.s MachineCode.Q5_Kx16.s), so the transposes of
#   MachineCode.Q6_Kx16.s (q6x16_load16, q6x16_stage12, q6x16_stage34) and its x16_pairs_fma, x16_first_mask, x16_hsum8, x16_begin
#   and x16_next_group, and MachineCode.s's x16_leave, hold here.
.intel_syntax noprefix
.text
# q4kx16_pairs src, lo, hi: the 4 bytes of each of the 16 rows in zmm src as two word pairs per row: (byte 0, byte 1) in
#   zmm lo, (byte 2, byte 3) in zmm hi (unpacked to words against zmm13 = 0 within 128-bit lanes, which gives each row's
#   two pairs side by side, then the even and the odd dwords). Uses zmm14, zmm15.
.macro q4kx16_pairs src, lo, hi
  vpunpcklbw zmm14, zmm\src, zmm13
  vpunpckhbw zmm15, zmm\src, zmm13
  vshufps zmm\lo, zmm14, zmm15, 0x88
  vshufps zmm\hi, zmm14, zmm15, 0xdd
.endm
# x16_l2_ahead dist, lines: prefetcht2 of the lines lines at rsi + dist (Ingot's layout: a later super-block of the
#   group stream, into L2, far enough ahead of the loads for memory's latency at one token).
.macro x16_l2_ahead dist, lines, i=0
  prefetcht2 [rsi + \dist + 64*\i]
  .if \lines - 1 - \i
  x16_l2_ahead \dist, \lines, "(\i + 1)"
  .endif
.endm
# kx16_scales: KScales.Unpack for the 16 rows of a group (zmm1..3: their scale dwords 0..2 transposed), the scale pairs
#   (sc 2m, sc 2m + 1) stored at rbp + 2048 + 64m and the min pairs (mn 2p, mn 2p + 1) left in zmm20..23 (Q4_K and Q5_K
#   share the 12 scale bytes). Sets zmm31 = 0x0f bytes; uses zmm4..10, zmm13..19.
.macro kx16_scales
  # KScales.Unpack per row: sc 0..3 = b[0..3] & 63, mn 0..3 = b[4..7] & 63, sc 4..7 = (b[8..11] & 15) | (b[0..3] >> 6) << 4,
  #   mn 4..7 = (b[8..11] >> 4) | (b[4..7] >> 6) << 4 (32-bit shifts: what crosses bytes lands outside the masks)
  mov eax, 0x3f3f3f3f
  vpbroadcastd zmm4, eax
  mov eax, 0x30303030
  vpbroadcastd zmm5, eax
  mov eax, 0x0f0f0f0f
  vpbroadcastd zmm31, eax
  vpandd zmm6, zmm1, zmm4
  vpsrld zmm7, zmm1, 2
  vpandd zmm7, zmm7, zmm5
  vpternlogd zmm7, zmm3, zmm31, 0xf8
  vpandd zmm8, zmm2, zmm4
  vpsrld zmm9, zmm2, 2
  vpandd zmm9, zmm9, zmm5
  vpsrld zmm10, zmm3, 4
  vpternlogd zmm9, zmm10, zmm31, 0xf8
  # scale pairs (sc 2m, sc 2m + 1) to the scratch, min pairs (mn 2p, mn 2p + 1) in zmm20..23
  vpxord zmm13, zmm13, zmm13
  q4kx16_pairs 6, 16, 17
  q4kx16_pairs 7, 18, 19
  q4kx16_pairs 8, 20, 21
  q4kx16_pairs 9, 22, 23
  vmovdqa64 [rbp + 2048], zmm16
  vmovdqa64 [rbp + 2112], zmm17
  vmovdqa64 [rbp + 2176], zmm18
  vmovdqa64 [rbp + 2240], zmm19
.endm
# kx16_d: the 16 rows' d_w in zmm24 and −dmin_w in zmm25 from zmm0 (each row's first dword: d | dmin). Uses zmm26.
.macro kx16_d
  vpmovdw ymm24, zmm0
  vcvtph2ps zmm24, ymm24
  vpsrld zmm25, zmm0, 16
  vpmovdw ymm25, zmm25
  vcvtph2ps zmm25, ymm25
  mov eax, 0x80000000
  vpbroadcastd zmm26, eax
  vxorps zmm25, zmm25, zmm26
.endm
# kx16_codes base: lane l's codes of the 8 sub-blocks in zmm0..7 (zmm j = sub-block j) from the transposed code vectors
#   at base + r14 (r14 = 64·l): chunk k = dword 8k + l, its low nibbles sub-block 2k, its high ones 2k + 1 (zmm31 = 0x0f
#   bytes).
.macro kx16_codes base=rbp
  vmovdqu64 zmm0, [\base + r14]
  vmovdqu64 zmm2, [\base + r14 + 512]
  vmovdqu64 zmm4, [\base + r14 + 1024]
  vmovdqu64 zmm6, [\base + r14 + 1536]
  vpsrlw zmm1, zmm0, 4
  vpsrlw zmm3, zmm2, 4
  vpsrlw zmm5, zmm4, 4
  vpsrlw zmm7, zmm6, 4
  .irp j, 0, 1, 2, 3, 4, 5, 6, 7
  vpandd zmm\j, zmm\j, zmm31
  .endr
.endm
# kx16_tokens acc, bytes: lane l's step for every token (r14 = 64·l, the lane's codes in zmm0..7): the 8 sub-block dots
#   (kx16_dots), then sub-blocks 2m and 2m + 1 packed, scaled, converted and accumulated (x16_pairs_fma,
#   MachineCode.Q6_Kx16.s) into the token's acc[l] at rbp + acc + 128 + 64·l (tokens bytes apart; d_w · d_a 128 bytes
#   before acc[0]). mask: x16_pairs_fma's (q4_kx16dots512's k2).
.macro kx16_tokens acc, bytes, mask=
  mov rcx, [rdi + 56]
  # rax: the token's q8 at lane l of sub-block 0 (A + 4 + 4l); rbx: its acc[l]; r9: from acc[l] back to d_w · d_a
  mov rax, r14
  shr rax, 4
  lea rax, [r12 + rax + 4]
  lea rbx, [rbp + r14 + \acc + 128]
  mov r9, r14
  neg r9
  sub r9, 128
4:
  kx16_dots
  x16_pairs_fma \mask
  add rax, [rdi + 32]
  add rbx, \bytes
  dec rcx
  jnz 4b
.endm
# kx16_dots: one token's 8 sub-block sums at lane l, zmm16 + j = Σ code·q8 over the 4 bytes of sub-block j (the token's q8
#   of lane l at rax + 32j).
.macro kx16_dots
  vpxord zmm16, zmm16, zmm16
  vpdpbusd zmm16, zmm0, [rax]{1to16}
  vpxord zmm17, zmm17, zmm17
  vpdpbusd zmm17, zmm1, [rax + 32]{1to16}
  vpxord zmm18, zmm18, zmm18
  vpdpbusd zmm18, zmm2, [rax + 64]{1to16}
  vpxord zmm19, zmm19, zmm19
  vpdpbusd zmm19, zmm3, [rax + 96]{1to16}
  vpxord zmm20, zmm20, zmm20
  vpdpbusd zmm20, zmm4, [rax + 128]{1to16}
  vpxord zmm21, zmm21, zmm21
  vpdpbusd zmm21, zmm5, [rax + 160]{1to16}
  vpxord zmm22, zmm22, zmm22
  vpdpbusd zmm22, zmm6, [rax + 192]{1to16}
  vpxord zmm23, zmm23, zmm23
  vpdpbusd zmm23, zmm7, [rax + 224]{1to16}
.endm
# kx16_code_transposes disp: the 128 code bytes at rsi + disp of the 16 rows (rdi's row stride) transposed, 16 dwords a
#   pass (vector i at rbp + 64·i).
.macro kx16_code_transposes disp
  mov rdx, [rdi + 8]
  lea r10, [rdx + rdx*2]
  xor ecx, ecx
  mov rbx, rbp
9:
  lea rax, [rsi + rcx + \disp]
  q6x16_load16 0
  q6x16_stage12
  q6x16_stage34
  add rcx, 64
  add rbx, 1024
  cmp rcx, 128
  jb 9b
.endm
# kx16_lane_consts: the lane loop's constants: zmm31 = 0x0f bytes, zmm12 = 0x0000ffff dwords (the low word of a packed
#   pair), zmm8..11 the scale pairs from rbp + 2048.
.macro kx16_lane_consts
  mov eax, 0x0f0f0f0f
  vpbroadcastd zmm31, eax
  mov eax, 0xffff
  vpbroadcastd zmm12, eax
  vmovdqa64 zmm8, [rbp + 2048]
  vmovdqa64 zmm9, [rbp + 2112]
  vmovdqa64 zmm10, [rbp + 2176]
  vmovdqa64 zmm11, [rbp + 2240]
.endm
# void q4_kx16dots512(Q4_Kx16Args* rdi): Q4_K weight rows · Q8_K activation rows, 16 rows per 512-bit vector (lane r =
#   row r of a group), every (row, token) with VecDotQ4_KQ8_K.V256's integer lanes, float steps and final sums. Per
#   group of 16 rows and super-block: the rows' d, dmin and 12 scale bytes transposed (4 vectors of 16 rows' dword i) and
#   unpacked into scale pairs and min pairs, their 128 code bytes transposed (32 vectors); per token the 4 min lanes
#     accMin[p] = fma(float(m(2p)·bs(2p) + m(2p + 1)·bs(2p + 1)), d_a · −dmin_w, accMin[p])
#   (bs(j): the token's sum of sub-block j's q8, prepared per call), then for each of ggml's 8 lanes l (bytes 4l .. 4l+3
#   of each sub-block of 32) the 8 sub-blocks' codes decoded once for all the tokens (code dword 8k + l holds sub-block
#   2k in its low nibbles, 2k + 1 in its high ones), and per token:
#     lane = Σ_j sc(j) · Σ code·q8     (exact, over the 4 bytes of sub-block j at lane l)
#   where sub-block j's sum fits in 16 bits (|Σ code·q8| ≤ 4 · 15 · 128), so sub-blocks 2m and 2m + 1 are packed into
#   the words of one dword and one vpmaddwd / vpdpwssd applies both scales
#     acc[l] = fma(float(lane), d_w · d_a, acc[l])
#   then y = (((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7))) + ((m0 + m2) + (m1 + m3))   (VecDotQ4_KQ8_K.Finish).
# Q4_Kx16Args: +0 W (row 0 of group 0), +8 row stride (bytes), +16 groups (≥ 1), +24 A (token 0: Q8_K blocks of 292
#   bytes), +32 token stride of A, +40 S (token 0: the 8 sub-block sums bs as words, 16 bytes per super-block), +48 token
#   stride of S, +56 tokens (1 .. 32), +64 super-blocks (≥ 1), +72 scratch (64-byte aligned, 2304 + 896 · tokens bytes),
#   +80 y (row 0 of token 0), +88 token stride of y (bytes), +96 interleaved (0: W in GGUF's rows; 1: in Ingot's layout,
#   Formats.KQuantsX16: each super-block's 16 rows already transposed, 36 vectors, so the kernel reads them where they
#   are), +104 W's super-block stride (144 | 2304 bytes).
# Scratch: +0 the transposed codes (32 vectors), +2048 the 4 scale-pair vectors, +2304 per token 896 bytes: d_w · d_a,
#   d_a · −dmin_w, acc[0..7], accMin[0..3].
.p2align 4, 0xcc
q4_kx16dots512:
  x16_begin 2304, 896
  # the next group's rows (16 row strides on), 5 lines per lane step (2560 bytes per super-block: ahead of its 16 · 144)
  mov r15, [rdi + 8]
  shl r15, 4
  add r15, r8
2:
  x16_first_mask # for the loads of the lane and min accumulators
  cmp qword ptr [rdi + 96], 0
  jne 20f
  mov rdx, [rdi + 8]
  lea r10, [rdx + rdx*2]
  # d, dmin and the 12 scale bytes of the 16 rows (dwords 0 .. 3) transposed: zmm0 = d | dmin, zmm1..3 = scale bytes
  #   0..3, 4..7, 8..11 (q6x16_stage34's shuffles for columns 0..3 only)
  mov eax, 0xf
  kmovd k1, eax
  mov rax, rsi
  q6x16_load16 0, vmovdqu32, "{k1}{z}"
  q6x16_stage12
  vshufi32x4 zmm16, zmm0, zmm4, 0x88
  vshufi32x4 zmm17, zmm8, zmm12, 0x88
  vshufi32x4 zmm18, zmm1, zmm5, 0x88
  vshufi32x4 zmm19, zmm9, zmm13, 0x88
  vshufi32x4 zmm20, zmm2, zmm6, 0x88
  vshufi32x4 zmm21, zmm10, zmm14, 0x88
  vshufi32x4 zmm22, zmm3, zmm7, 0x88
  vshufi32x4 zmm23, zmm11, zmm15, 0x88
  vshufi32x4 zmm0, zmm16, zmm17, 0x88
  vshufi32x4 zmm1, zmm18, zmm19, 0x88
  vshufi32x4 zmm2, zmm20, zmm21, 0x88
  vshufi32x4 zmm3, zmm22, zmm23, 0x88
  jmp 21f
  # Ingot's layout: vectors 0 .. 3 as they are; the super-block 2 on prefetched into L1 by the lane steps, the one 8 on
  #   into L2 here
20:
  x16_l2_ahead 8*2304, 36
  lea r15, [rsi + 2*2304]
  .irp i, 0, 1, 2, 3
  vmovdqu64 zmm\i, [rsi + 64*\i]
  .endr
21:
  kx16_scales
  # per token d_w · d_a, d_a · −dmin_w and the min lanes
  kx16_d
  mov rcx, [rdi + 56]
  mov rax, r12
  mov rdx, r13
  lea rbx, [rbp + 2304]
6:
  vmulps zmm26, zmm24, [rax]{1to16}
  vmovaps [rbx], zmm26
  vmulps zmm27, zmm25, [rax]{1to16}
  vmovaps [rbx + 64], zmm27
  .irp p, 0, 1, 2, 3
  vpxord zmm28, zmm28, zmm28
  vpdpwssd zmm28, zmm2\p, [rdx + 4*\p]{1to16}
  vcvtdq2ps zmm28, zmm28
  vmovaps zmm30{k2}{z}, [rbx + 640 + 64*\p]
  vfmadd231ps zmm30, zmm28, zmm27
  vmovaps [rbx + 640 + 64*\p], zmm30
  .endr
  add rax, [rdi + 32]
  add rdx, [rdi + 48]
  add rbx, 896
  dec rcx
  jnz 6b
  # the codes (dwords 4 .. 35 of each row) transposed (r10: their vectors; in Ingot's layout the weights')
  cmp qword ptr [rdi + 96], 0
  jne 22f
  kx16_code_transposes 16
  mov r10, rbp
  jmp 23f
22:
  lea r10, [rsi + 256]
23:
  kx16_lane_consts
  # r14 = 64 · l
  xor r14d, r14d
3:
  .irp i, 0, 1, 2, 3, 4
  prefetcht0 [r15 + 64*\i]
  .endr
  add r15, 320
  # zmm j = sub-block j's codes at lane l: chunk k = dword 8k + l, low nibbles sub-block 2k, high ones 2k + 1
  kx16_codes r10
  kx16_tokens 2304, 896, "{k2}{z}"
  add r14, 64
  cmp r14, 512
  jb 3b
  add rsi, [rdi + 104]
  add r12, 292
  add r13, 16
  dec r11
  jnz 2b
  # y[t][16 rows] = Hsum8 of the token's 8 accumulators + the sum of its 4 min accumulators
  pop r15
  mov rcx, [rdi + 56]
  lea rbx, [rbp + 2304]
  mov rax, r15
7:
  x16_hsum8 128
  vmovaps zmm4, [rbx + 640]
  vmovaps zmm5, [rbx + 704]
  vaddps zmm4, zmm4, [rbx + 768]
  vaddps zmm5, zmm5, [rbx + 832]
  vaddps zmm4, zmm4, zmm5
  vaddps zmm0, zmm0, zmm4
  vmovups [rax], zmm0
  add rax, [rdi + 88]
  add rbx, 896
  dec rcx
  jnz 7b
  x16_next_group
  x16_leave
