.intel_syntax noprefix
.text
# long request_tiledata(void): arch_prctl(ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18)
perm:
  mov eax, 158
  mov edi, 0x1023
  mov esi, 18
  syscall
  ret
  int3
  int3
  int3
# void gemm(Args* rdi): per block b < blocks: C0[b] = W·L0, C1[b] = W·L1 (int32 16 rows x 8 tokens each)
# Args: +0 cfg, +8 w (block-major: 16 rows x 32 bytes per block), +16 w row stride, +24 lanes0, +32 lanes1, +40 c, +48 blocks
gemm:
  mov rax, [rdi]
  ldtilecfg [rax]
  mov rsi, [rdi + 8]
  mov rdx, [rdi + 16]
  mov rcx, [rdi + 24]
  mov r8, [rdi + 32]
  mov r9, [rdi + 40]
  mov r10, [rdi + 48]
  mov r11, 32
1:
  tileloadd tmm0, [rsi + rdx*1]
  tileloadd tmm1, [rcx + r11*1]
  tileloadd tmm2, [r8 + r11*1]
  tilezero tmm4
  tilezero tmm5
  tdpbssd tmm4, tmm0, tmm1
  tdpbssd tmm5, tmm0, tmm2
  tilestored [r9 + r11*1], tmm4
  lea rax, [r9 + 512]
  tilestored [rax + r11*1], tmm5
  add rsi, 512
  add rcx, 320
  add r8, 320
  add r9, 1024
  dec r10
  jnz 1b
  tilerelease
  ret
