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
