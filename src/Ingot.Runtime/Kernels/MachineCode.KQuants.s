# MachineCode.s continued: the K-quant rows kernels (Q6_K, Q4_K, Q5_K), assembled after it, MachineCode.Q4_0x16.s and
# MachineCode.Q8_0.s in one run of GNU as (as --64 MachineCode.s MachineCode.Q4_0x16.s MachineCode.Q8_0.s
# MachineCode.KQuants.s), so the macros MachineCode.s defines (ahead) hold here too.
.intel_syntax noprefix
.text
# q6k_half h, c01, c23: half h of the super-block at rsi (ql + 64h, qh + 32h) decoded into zmm c01 (groups 0 | 1) and
#   zmm c23 (groups 2 | 3): code = low 4 bits | the group's 2 high bits at bits 4-5, moved there by 16-bit shifts
#   (bits that cross bytes land outside 0x30).
.macro q6k_half h, c01, c23
  vmovdqu64 zmm\c01, [rsi + 64*\h]
  vbroadcasti64x4 zmm1, [rsi + 128 + 32*\h]
  vpsllvw zmm2, zmm1, zmm29
  vpsrlvw zmm1, zmm1, zmm28
  vpsrlw zmm\c23, zmm\c01, 4
  vpandd zmm2, zmm2, zmm30
  vpandd zmm1, zmm1, zmm30
  vpternlogd zmm\c01, zmm31, zmm2, 0xea
  vpternlogd zmm\c23, zmm31, zmm1, 0xea
.endm
# kq_hsum8 src: xmm9 = ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)) of the 8 floats src (memory or a ymm register;
#   Q0Order.Hsum8). Uses xmm10.
.macro kq_hsum8 src
  vmovups ymm9, \src
  vextractf128 xmm10, ymm9, 1
  vaddps xmm9, xmm9, xmm10
  vmovhlps xmm10, xmm10, xmm9
  vaddps xmm9, xmm9, xmm10
  vmovshdup xmm10, xmm9
  vaddss xmm9, xmm9, xmm10
.endm
# kq_leave: the K-quant kernels' return (their pushes: rbx, r12 .. \last).
.macro kq_leave last
  vzeroupper
  .ifc \last, r15
  pop r15
  .endif
  pop r14
  pop r13
  pop r12
  pop rbx
  ret
.endm
# q6k_block: the super-block at rsi decoded for the tokens: codes zmm16..19, scales as words zmm20..23, d_w broadcast in
#   ymm15 (prefetching ahead of it). Uses eax, zmm1, zmm2, zmm4.
.macro q6k_block
  ahead 4096, 16384, 0, 64, 128, 192, 209
  q6k_half 0, 16, 17
  q6k_half 1, 18, 19
  vpmovsxbw ymm4, [rsi + 192]
  vpermw zmm20, zmm24, zmm4
  vpermw zmm21, zmm25, zmm4
  vpermw zmm22, zmm26, zmm4
  vpermw zmm23, zmm27, zmm4
  movzx eax, word ptr [rsi + 208]
  vmovd xmm15, eax
  vcvtph2ps xmm15, xmm15
  vbroadcastss ymm15, xmm15
.endm
# kq_lanes q6=0: the decoded super-block against the Q8_K block at rax: ymm9 = float(ggml's 8 int lanes),
#   ymm11 = d_a · d_w broadcast. q6 = 1 (Q6_K): less the maddubs(32, q8) at rdx (the codes' +32 offset) before the
#   scales.
.macro kq_lanes q6=0
  vpmaddubsw zmm5, zmm16, [rax + 4]
  vpmaddubsw zmm6, zmm17, [rax + 68]
  vpmaddubsw zmm7, zmm18, [rax + 132]
  vpmaddubsw zmm8, zmm19, [rax + 196]
  .if \q6
  vpsubw zmm5, zmm5, [rdx]
  vpsubw zmm6, zmm6, [rdx + 64]
  vpsubw zmm7, zmm7, [rdx + 128]
  vpsubw zmm8, zmm8, [rdx + 192]
  .endif
  vpmaddwd zmm9, zmm5, zmm20
  vpmaddwd zmm10, zmm7, zmm22
  vpdpwssd zmm9, zmm6, zmm21
  vpdpwssd zmm10, zmm8, zmm23
  vpaddd zmm9, zmm9, zmm10
  vextracti64x4 ymm10, zmm9, 1
  vpaddd ymm9, ymm9, ymm10
  vcvtdq2ps ymm9, ymm9
  vmulps ymm11, ymm15, dword ptr [rax]{1to8}
.endm
# void q6_kdots512(Q6_KArgs* rdi): Q6_K weight rows · Q8_K activation rows, the integer lanes, float accumulators and
#   final sums of VecDotQ6_KQ8_K's rows kernel in 512-bit vectors with vpdpwssd (AVX512-VNNI). Each vector holds two of a
#   half's groups (ql's 64 bytes are groups 0|1 in their low nibbles, 2|3 in their high ones), so its 256-bit halves add
#   into ggml's 8 int lanes (exact). For each row r < rows, token t < tokens and super-block i in order, with acc at
#   scratch + 32·t (zeroed per row):
#     acc[8] = fma(float(lanes), d_a · d_w, acc)
#   each super-block's codes and scales decoded once for all the tokens; then
#   y[t][r] = ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7))   (Q0Order.Hsum8).
# Q6_KArgs: +0 W (row 0), +8 row stride (bytes), +16 rows (≥ 1), +24 A (token 0: Q8_K blocks of 292 bytes), +32 token
#   stride of A, +40 M (token 0: maddubs(32, q8), 256 bytes per super-block), +48 token stride of M, +56 tokens (≥ 1),
#   +64 super-blocks (≥ 1), +72 scratch (32 bytes per token), +80 y (row 0 of token 0), +88 token stride of y (bytes).
.p2align 4, 0xcc
q6_kdots512:
  push rbx
  push r12
  push r13
  push r14
  mov eax, 0x0f0f0f0f
  vpbroadcastd zmm31, eax
  mov eax, 0x30303030
  vpbroadcastd zmm30, eax
  # zmm29: 16-bit shift counts 4 | 2 (the high bits of groups 0 | 1), zmm28: 0 | 2 (groups 2 | 3)
  mov eax, 0xffff0000
  kmovd k1, eax
  mov eax, 4
  vpbroadcastw zmm29, eax
  mov eax, 2
  vpbroadcastw zmm29{k1}, eax
  vpxord zmm28, zmm28, zmm28
  vpbroadcastw zmm28{k1}, eax
  # zmm24..27: vpermw indices, 128-bit lane L = word 4j + L (j = 0..3): scales 4j .. 4j + 3, 8 words each
  vpxord zmm24, zmm24, zmm24
  mov eax, 0x0000ff00
  kmovd k1, eax
  mov eax, 1
  vpbroadcastw zmm24{k1}, eax
  mov eax, 0x00ff0000
  kmovd k1, eax
  mov eax, 2
  vpbroadcastw zmm24{k1}, eax
  mov eax, 0xff000000
  kmovd k1, eax
  mov eax, 3
  vpbroadcastw zmm24{k1}, eax
  mov eax, 4
  vpbroadcastw zmm0, eax
  vpaddw zmm25, zmm24, zmm0
  vpaddw zmm26, zmm25, zmm0
  vpaddw zmm27, zmm26, zmm0
  cmp qword ptr [rdi + 56], 1
  je 10f
  mov r8, [rdi]
  mov r9, [rdi + 16]
  mov r10, [rdi + 72]
  mov r14, [rdi + 80]
4:
  mov rbx, r10
  mov r11, [rdi + 56]
  vxorps xmm9, xmm9, xmm9
5:
  vmovups [rbx], ymm9
  add rbx, 32
  dec r11
  jnz 5b
  mov rsi, r8
  mov r12, [rdi + 24]
  mov r13, [rdi + 40]
  mov rcx, [rdi + 64]
6:
  q6k_block
  mov rax, r12
  mov rdx, r13
  mov rbx, r10
  mov r11, [rdi + 56]
7:
  kq_lanes 1
  vfmadd213ps ymm9, ymm11, [rbx]
  vmovups [rbx], ymm9
  add rax, [rdi + 32]
  add rdx, [rdi + 48]
  add rbx, 32
  dec r11
  jnz 7b
  add rsi, 210
  add r12, 292
  add r13, 256
  dec rcx
  jnz 6b
  mov rbx, r10
  mov rdx, r14
  mov r11, [rdi + 56]
8:
  kq_hsum8 [rbx]
  vmovss [rdx], xmm9
  add rdx, [rdi + 88]
  add rbx, 32
  dec r11
  jnz 8b
  add r14, 4
  add r8, [rdi + 8]
  dec r9
  jnz 4b
  kq_leave r14
# one token (decode): the same steps with the accumulator in ymm12 instead of the scratch, so that no super-block waits
#   on the previous one's store (the fma's operands as above: acc = fma(float(lanes), d_a · d_w, acc)).
10:
  mov r8, [rdi]
  mov r9, [rdi + 16]
  mov r14, [rdi + 80]
11:
  vxorps xmm12, xmm12, xmm12
  mov rsi, r8
  mov r12, [rdi + 24]
  mov r13, [rdi + 40]
  mov rcx, [rdi + 64]
12:
  q6k_block
  mov rax, r12
  mov rdx, r13
  kq_lanes 1
  vfmadd231ps ymm12, ymm9, ymm11
  add rsi, 210
  add r12, 292
  add r13, 256
  dec rcx
  jnz 12b
  kq_hsum8 ymm12
  vmovss [r14], xmm9
  add r14, 4
  add r8, [rdi + 8]
  dec r9
  jnz 11b
  kq_leave r14
# The K-quant kernels' shared steps (Q4_K and Q5_K: d, dmin, the 12 scale bytes at +4, then their codes).
# kq_consts: zmm31 = 0x0f bytes, zmm30 = 16-bit shift counts 0 | 4 (low | high nibbles), zmm24..27 = vpermw indices
#   2k | 2k + 1 (chunk k's scales), zmm29 = the f32 sign bit. Uses eax, k1, zmm0.
.macro kq_consts
  mov eax, 0x0f0f0f0f
  vpbroadcastd zmm31, eax
  # zmm30: 16-bit shift counts 0 | 4 (low | high nibbles); zmm24..27: vpermw indices 2k | 2k + 1 (chunk k's scales)
  mov eax, 0xffff0000
  kmovd k1, eax
  vpxord zmm30, zmm30, zmm30
  mov eax, 4
  vpbroadcastw zmm30{k1}, eax
  vpxord zmm24, zmm24, zmm24
  mov eax, 1
  vpbroadcastw zmm24{k1}, eax
  mov eax, 2
  vpbroadcastw zmm0, eax
  vpaddw zmm25, zmm24, zmm0
  vpaddw zmm26, zmm25, zmm0
  vpaddw zmm27, zmm26, zmm0
  mov eax, 0x80000000
  vpbroadcastd zmm29, eax
.endm
# kq_scales: the super-block at rsi's scales as words zmm20..23 (chunk k: sc_2k ×16 | sc_2k+1 ×16), its mins as 8 words in
#   xmm3. Uses eax, edx, ebx, r11, r13, xmm2.
.macro kq_scales
  # the 12 scale bytes: sc 0..3 = b[0..3] & 63, mn 0..3 = b[4..7] & 63, sc 4..7 = (b[8..11] & 15) | (b[0..3] >> 6) << 4,
  # mn 4..7 = (b[8..11] >> 4) | (b[4..7] >> 6) << 4 (KScales.Unpack)
  mov eax, [rsi + 4]
  mov edx, [rsi + 8]
  mov r11d, [rsi + 12]
  mov ebx, eax
  shr ebx, 6
  and ebx, 0x03030303
  shl ebx, 4
  mov r13d, r11d
  and r13d, 0x0f0f0f0f
  or ebx, r13d
  and eax, 0x3f3f3f3f
  vmovd xmm2, eax
  vpinsrd xmm2, xmm2, ebx, 1
  mov ebx, edx
  shr ebx, 6
  and ebx, 0x03030303
  shl ebx, 4
  shr r11d, 4
  and r11d, 0x0f0f0f0f
  or ebx, r11d
  and edx, 0x3f3f3f3f
  vmovd xmm3, edx
  vpinsrd xmm3, xmm3, ebx, 1
  vpmovzxbw xmm2, xmm2
  vpmovzxbw xmm3, xmm3
  vpermw zmm20, zmm24, zmm2
  vpermw zmm21, zmm25, zmm2
  vpermw zmm22, zmm26, zmm2
  vpermw zmm23, zmm27, zmm2
.endm
# kq_codes qs: the 4-bit codes at rsi + qs as zmm16..19 (chunk k's 32 bytes in both halves, shifted 0 | 4 and masked:
#   sub-blocks 2k | 2k + 1).
.macro kq_codes qs
  vbroadcasti64x4 zmm16, [rsi + \qs]
  vbroadcasti64x4 zmm17, [rsi + \qs + 32]
  vbroadcasti64x4 zmm18, [rsi + \qs + 64]
  vbroadcasti64x4 zmm19, [rsi + \qs + 96]
  vpsrlvw zmm16, zmm16, zmm30
  vpsrlvw zmm17, zmm17, zmm30
  vpsrlvw zmm18, zmm18, zmm30
  vpsrlvw zmm19, zmm19, zmm30
  vpandd zmm16, zmm16, zmm31
  vpandd zmm17, zmm17, zmm31
  vpandd zmm18, zmm18, zmm31
  vpandd zmm19, zmm19, zmm31
.endm
# kq_d: d_w broadcast in ymm15, −dmin_w broadcast in xmm14.
.macro kq_d
  movzx eax, word ptr [rsi]
  vmovd xmm15, eax
  vcvtph2ps xmm15, xmm15
  vbroadcastss ymm15, xmm15
  movzx eax, word ptr [rsi + 2]
  vmovd xmm14, eax
  vcvtph2ps xmm14, xmm14
  vxorps xmm14, xmm14, xmm29
  vbroadcastss xmm14, xmm14
.endm
# The Q4_K and Q5_K kernels' loops (Q4_KArgs): rows (label 4: r8 the row's weights, r14 its y, r10 the scratch zeroed),
#   super-blocks (6: rsi the weights, r12 the Q8_K blocks, r15 the bsum sums, rcx the count), tokens (7: rax, rdx, rbx),
#   then a finishing pass per token (8: rbx the scratch, rdx y) that leaves its result in xmm9 for kq_store_next.
.macro kq_enter
  push rbx
  push r12
  push r13
  push r14
  push r15
  kq_consts
.endm
.macro kq_rows
  mov r8, [rdi]
  mov r9, [rdi + 16]
  mov r10, [rdi + 56]
  mov r14, [rdi + 64]
4:
  mov rbx, r10
  mov r11, [rdi + 40]
  vpxord zmm9, zmm9, zmm9
5:
  vmovups [rbx], zmm9
  add rbx, 64
  dec r11
  jnz 5b
  mov rsi, r8
  mov r12, [rdi + 24]
  mov r15, [rdi + 80]
  mov rcx, [rdi + 48]
.endm
.macro kq_tokens
  mov rax, r12
  mov rdx, r15
  mov rbx, r10
  mov r11, [rdi + 40]
.endm
.macro kq_next_token
  add rax, [rdi + 32]
  add rdx, [rdi + 88]
  add rbx, 64
  dec r11
  jnz 7b
.endm
.macro kq_next_block size
  add rsi, \size
  add r12, 292
  add r15, 16
  dec rcx
  jnz 6b
  mov rbx, r10
  mov rdx, r14
  mov r11, [rdi + 40]
.endm
.macro kq_store_next
  vmovss [rdx], xmm9
  add rdx, [rdi + 72]
  add rbx, 64
  dec r11
  jnz 8b
  add r14, 4
  add r8, [rdi + 8]
  dec r9
  jnz 4b
  kq_leave r15
.endm
# q4k_block: the Q4_K super-block at rsi decoded for the tokens (kq_scales, kq_codes, kq_d), prefetching ahead of it.
.macro q4k_block
  ahead 4096, 16384, 0, 64, 128, 143
  kq_scales
  kq_codes 16
  kq_d
.endm
# q4k_mins_sum: xmm9 += ((m0 + m2) + (m1 + m3)) of the 4 min lanes in xmm11 (VecDotQ4_KQ8_K.Finish). Uses xmm12.
.macro q4k_mins_sum
  vmovhlps xmm12, xmm12, xmm11
  vaddps xmm11, xmm11, xmm12
  vmovshdup xmm12, xmm11
  vaddss xmm11, xmm11, xmm12
  vaddss xmm9, xmm9, xmm11
.endm
# void q4_kdots512(Q4_KArgs* rdi): Q4_K weight rows · Q8_K activation rows, VecDotQ4_KQ8_K.V256's integer lanes, float
#   steps and final sums in 512-bit vectors with vpdpwssd (AVX512-VNNI). Chunk k's 32 qs bytes, broadcast to both 256-bit
#   halves and shifted by 0 | 4, are sub-blocks 2k | 2k + 1, which meet the activation's 64 contiguous bytes 64k..64k+63;
#   the halves' int32 lanes add into ggml's 8 lanes (lane l = bytes 4l..4l+3 of every sub-block, scaled; exact). The
#   mins: the bsums' 8 sub-block sums (phaddw, prepared per token and super-block) pmaddwd the 8 mins: 4 lanes
#   (sub-block pairs). For each row r < rows, token t < tokens and super-block i in order, with acc at scratch + 64·t
#   (zeroed per row):
#     acc[8]    = fma(float(lanes), d_a · d_w, acc)
#     accMin[4] = fma(float(min lanes), −(d_a · dmin_w), accMin)   (at +32)
#   each super-block's codes, scales and mins decoded once for all the tokens; then
#   y[t][r] = ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)) + ((m0 + m2) + (m1 + m3))   (VecDotQ4_KQ8_K.Finish).
# Q4_KArgs: +0 W (row 0), +8 row stride (bytes), +16 rows (≥ 1), +24 A (token 0: Q8_K blocks of 292 bytes: d, qs at +4,
#   bsums at +260), +32 token stride of A, +40 tokens (≥ 1), +48 super-blocks (≥ 1), +56 scratch (64 bytes per token),
#   +64 y (row 0 of token 0), +72 token stride of y (bytes), +80 the bsums' 8 sub-block sums (token 0: 8 words per
#   super-block), +88 their token stride (bytes).
.p2align 4, 0xcc
q4_kdots512:
  kq_enter
  cmp qword ptr [rdi + 40], 1
  je 10f
  kq_rows
6:
  q4k_block
  kq_tokens
7:
  kq_lanes
  vfmadd213ps ymm9, ymm11, [rbx]
  vmovups [rbx], ymm9
  vpmaddwd xmm12, xmm3, [rdx]
  vcvtdq2ps xmm12, xmm12
  vmulps xmm13, xmm14, dword ptr [rax]{1to4}
  vfmadd213ps xmm12, xmm13, [rbx + 32]
  vmovups [rbx + 32], xmm12
  kq_next_token
  kq_next_block 144
8:
  kq_hsum8 [rbx]
  vmovups xmm11, [rbx + 32]
  q4k_mins_sum
  kq_store_next
# one token (decode): the same steps with acc in ymm1 and accMin in xmm4 instead of the scratch, so that no super-block
#   waits on the previous one's stores (the fmas' operands as above).
10:
  mov r8, [rdi]
  mov r9, [rdi + 16]
  mov r14, [rdi + 64]
11:
  vxorps xmm1, xmm1, xmm1
  vxorps xmm4, xmm4, xmm4
  mov rsi, r8
  mov r12, [rdi + 24]
  mov r15, [rdi + 80]
  mov rcx, [rdi + 48]
12:
  q4k_block
  mov rax, r12
  kq_lanes
  vfmadd231ps ymm1, ymm9, ymm11
  vpmaddwd xmm12, xmm3, [r15]
  vcvtdq2ps xmm12, xmm12
  vmulps xmm13, xmm14, dword ptr [rax]{1to4}
  vfmadd231ps xmm4, xmm12, xmm13
  add rsi, 144
  add r12, 292
  add r15, 16
  dec rcx
  jnz 12b
  kq_hsum8 ymm1
  vmovaps xmm11, xmm4
  q4k_mins_sum
  vmovss [r14], xmm9
  add r14, 4
  add r8, [rdi + 8]
  dec r9
  jnz 11b
  kq_leave r15
# void q5_kdots512(Q5_KArgs* rdi): Q5_K weight rows · Q8_K activation rows, VecDotQ5_KQ8_K.V256's integer lanes, float
#   steps and final sums, as q4_kdots512 with the fifth bits: qh (32 bytes at +16) holds element i of sub-block j in bit j
#   of byte i, so chunk k's bits 2k | 2k + 1 are shifted to bit 4 (qh, or qh >> 4 for chunks 2 and 3, shifted left by
#   4 − 2k mod 4 | 3 − 2k mod 4 as words; no other bit reaches a byte's bit 4) and or-ed into the codes. The mins are one
#   exact int per super-block, Σ of the 4 min lanes. For each row r < rows, token t < tokens and super-block i in order,
#   with acc at scratch + 64·t (zeroed per row):
#     acc[8] = fma(float(lanes), d_a · d_w, acc)
#     summs  = fma(−(d_a · dmin_w), float(min sum), summs)   (at +32)
#   then y[t][r] = ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)) + summs.
# Q5_KArgs: as Q4_KArgs (super-blocks of 176 bytes: d, dmin, scales, qh at +16, qs at +48).
.p2align 4, 0xcc
q5_kdots512:
  kq_enter
  # zmm0: word shift counts 4 | 3 (chunks 0 and 2), zmm1: 2 | 1 (chunks 1 and 3), zmm28: 0x10 bytes
  mov eax, 4
  vpbroadcastw zmm0, eax
  mov eax, 3
  vpbroadcastw zmm0{k1}, eax
  mov eax, 2
  vpbroadcastw zmm1, eax
  mov eax, 1
  vpbroadcastw zmm1{k1}, eax
  mov eax, 0x10101010
  vpbroadcastd zmm28, eax
  kq_rows
6:
  ahead 4096, 16384, 0, 64, 128, 175
  kq_scales
  kq_codes 48
  vbroadcasti64x4 zmm2, [rsi + 16]
  vpsrlw zmm4, zmm2, 4
  vpsllvw zmm5, zmm2, zmm0
  vpsllvw zmm6, zmm2, zmm1
  vpsllvw zmm7, zmm4, zmm0
  vpsllvw zmm8, zmm4, zmm1
  vpternlogd zmm16, zmm5, zmm28, 0xf8
  vpternlogd zmm17, zmm6, zmm28, 0xf8
  vpternlogd zmm18, zmm7, zmm28, 0xf8
  vpternlogd zmm19, zmm8, zmm28, 0xf8
  kq_d
  kq_tokens
7:
  kq_lanes
  vfmadd213ps ymm9, ymm11, [rbx]
  vmovups [rbx], ymm9
  vpmaddwd xmm12, xmm3, [rdx]
  vphaddd xmm12, xmm12, xmm12
  vphaddd xmm12, xmm12, xmm12
  vcvtdq2ps xmm12, xmm12
  vmulss xmm13, xmm14, [rax]
  vfmadd213ss xmm12, xmm13, [rbx + 32]
  vmovss [rbx + 32], xmm12
  kq_next_token
  kq_next_block 176
8:
  kq_hsum8 [rbx]
  vaddss xmm9, xmm9, [rbx + 32]
  kq_store_next
