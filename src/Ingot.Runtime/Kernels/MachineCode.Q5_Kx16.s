# MachineCode.s continued: the Q5_K rows kernel with 16 weight rows in the lanes of a 512-bit vector (prefills, batched
#   decode streams), assembled last in the run of GNU as (as --64 MachineCode.s MachineCode.Q4_0x16.s MachineCode.Q8_0.s
#   MachineCode.KQuants.s MachineCode.Q6_Kx16.s MachineCode.F16Widen.s MachineCode.Q4_Kx16.s MachineCode.Q8_0x16.s
#   MachineCode.Q5_Kx16.s), so the transposes and the x16_* steps of MachineCode.s and MachineCode.Q6_Kx16.s and the steps of
#   MachineCode.Q4_Kx16.s (kx16_scales, kx16_d, kx16_code_transposes, kx16_codes,
#   kx16_dots, kx16_tokens) hold here.
.intel_syntax noprefix
.text
# q5kx16_bit j, s: sub-block j's fifth bits (bit j of the qh bytes in zmm13) moved to bit 4 and or-ed into its codes in
#   zmm j: by 16-bit shifts (s = vpsllw 4 − j | vpsrlw j − 4; what crosses bytes lands outside zmm28 = 0x10 bytes).
.macro q5kx16_bit j, shift, count
  \shift zmm14, zmm13, \count
  vpternlogd zmm\j, zmm14, zmm28, 0xf8
.endm
# void q5_kx16dots512(Q5_Kx16Args* rdi): Q5_K weight rows · Q8_K activation rows, 16 rows per 512-bit vector (lane r =
#   row r of a group), every (row, token) with VecDotQ5_KQ8_K.V256's integer lanes, float steps and final sums:
#   q4_kx16dots512's steps with the fifth bits, and the mins as one exact int per super-block. Per group of 16 rows and
#   super-block: the rows' d, dmin, 12 scale bytes and 32 qh bytes transposed (12 vectors of 16 rows' dword i), their
#   128 code bytes too (32 vectors); per token
#     summs = fma(float(Σ_j mn(j)·bs(j)), d_a · −dmin_w, summs)      (bs(j): the token's sum of sub-block j's q8)
#   then for each of ggml's 8 lanes l the 8 sub-blocks' codes decoded once for all the tokens (code dword 8k + l: sub-block
#   2k in its low nibbles, 2k + 1 in its high ones; qh dword l: bit j of byte b is element 4l + b of sub-block j), and
#   per token (|Σ code·q8| ≤ 4 · 31 · 128 still fits 16 bits, so two sub-blocks share a dword as in q4_kx16dots512)
#     acc[l] = fma(float(Σ_j sc(j) · Σ code·q8), d_w · d_a, acc[l])
#   then y = (((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7))) + summs.
# Q5_Kx16Args: as Q4_Kx16Args (super-blocks of 176 bytes: d, dmin, scales, qh at +16, qs at +48; scratch 3328 + 704 ·
#   tokens bytes).
# Scratch: +0 the transposed codes (32 vectors), +2048 the 4 scale-pair vectors, +2304 the transposed d | dmin, scales
#   and qh (qh dword l at +2560 + 64l), +3328 per token 704 bytes: d_w · d_a, d_a · −dmin_w, acc[0..7], summs.
.p2align 4, 0xcc
q5_kx16dots512:
  x16_begin 3328, 704, 2, 3, 4, 5, 6, 7, 8, 9, 10
  # the next group's rows (16 row strides on), 6 lines per lane step (3072 bytes per super-block: ahead of its 16 · 176)
  mov r15, [rdi + 8]
  shl r15, 4
  add r15, r8
2:
  mov rdx, [rdi + 8]
  lea r10, [rdx + rdx*2]
  # dwords 0 .. 11 of the 16 rows (d | dmin, the 12 scale bytes, qh) transposed to rbp + 2304: zmm0 = d | dmin, zmm1..3 the
  #   scale bytes
  mov eax, 0xfff
  kmovd k1, eax
  mov rax, rsi
  q6x16_load16 0, vmovdqu32, "{k1}{z}"
  q6x16_stage12
  lea rbx, [rbp + 2304]
  q6x16_stage34
  kx16_scales
  kx16_d
  # per token d_w · d_a, d_a · −dmin_w and summs
  mov rcx, [rdi + 56]
  mov rax, r12
  mov rdx, r13
  lea rbx, [rbp + 3328]
6:
  vmulps zmm26, zmm24, [rax]{1to16}
  vmovaps [rbx], zmm26
  vmulps zmm27, zmm25, [rax]{1to16}
  vmovaps [rbx + 64], zmm27
  vpxord zmm28, zmm28, zmm28
  vpdpwssd zmm28, zmm20, [rdx]{1to16}
  vpdpwssd zmm28, zmm21, [rdx + 4]{1to16}
  vpdpwssd zmm28, zmm22, [rdx + 8]{1to16}
  vpdpwssd zmm28, zmm23, [rdx + 12]{1to16}
  vcvtdq2ps zmm28, zmm28
  vmovaps zmm30, [rbx + 640]
  vfmadd231ps zmm30, zmm28, zmm27
  vmovaps [rbx + 640], zmm30
  add rax, [rdi + 32]
  add rdx, [rdi + 48]
  add rbx, 704
  dec rcx
  jnz 6b
  # the codes (dwords 12 .. 43 of each row) transposed
  kx16_code_transposes 48
  kx16_lane_consts
  mov eax, 0x10101010
  vpbroadcastd zmm28, eax
  # r14 = 64 · l
  xor r14d, r14d
3:
  .irp i, 0, 1, 2, 3, 4, 5
  prefetcht0 [r15 + 64*\i]
  .endr
  add r15, 384
  # zmm j = sub-block j's codes at lane l: chunk k = dword 8k + l, low nibbles sub-block 2k, high ones 2k + 1, then
  #   qh dword l's bit j at bit 4
  kx16_codes
  vmovdqa64 zmm13, [rbp + r14 + 2560]
  q5kx16_bit 0, vpsllw, 4
  q5kx16_bit 1, vpsllw, 3
  q5kx16_bit 2, vpsllw, 2
  q5kx16_bit 3, vpsllw, 1
  vpternlogd zmm4, zmm13, zmm28, 0xf8
  q5kx16_bit 5, vpsrlw, 1
  q5kx16_bit 6, vpsrlw, 2
  q5kx16_bit 7, vpsrlw, 3
  kx16_tokens 3328, 704
  add r14, 64
  cmp r14, 512
  jb 3b
  add rsi, 176
  add r12, 292
  add r13, 16
  dec r11
  jnz 2b
  # y[t][16 rows] = Hsum8 of the token's 8 accumulators + its summs
  pop r15
  mov rcx, [rdi + 56]
  lea rbx, [rbp + 3328]
  mov rax, r15
7:
  x16_hsum8 128
  vaddps zmm0, zmm0, [rbx + 640]
  vmovups [rax], zmm0
  add rax, [rdi + 88]
  add rbx, 704
  dec rcx
  jnz 7b
  x16_next_group
  x16_leave
