/* Arm semihosting calls used directly by the QEMU port (newlib's librdimon covers stdio). */
#ifndef TINYREG_SEMIHOSTING_H
#define TINYREG_SEMIHOSTING_H

#include <stdint.h>

#define TR_SEMI_WRITE0 0x04
#define TR_SEMI_GET_CMDLINE 0x15
#define TR_SEMI_EXIT 0x18

static inline int tr_semihost(int op, void *arg) {
  register int r0 __asm__("r0") = op;
  register void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

static inline void tr_semihost_exit(uint32_t reason) __attribute__((noreturn));
static inline void tr_semihost_exit(uint32_t reason) {
  tr_semihost(TR_SEMI_EXIT, (void *)(uintptr_t)reason);
  for (;;) {
  }
}

#endif
