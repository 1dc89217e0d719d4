/* Start-up of the agent on QEMU's MPS2/MPS3 boards (Cortex-M4F, Cortex-M55): vector table, FPU
 * enable, .bss, C/C++ constructors, the semihosting command line as argv, and main. QEMU loads
 * the ELF's sections where they are linked, so .data needs no copy from flash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "semihosting.h"

extern uint32_t __stack_top, __bss_start__, __bss_end__;
extern void __libc_init_array(void);
extern void initialise_monitor_handles(void);
extern int main(int argc, char **argv);
void tr_qemu_systick_handler(void);
#ifdef TR_UART0_RX_IRQ
void tr_qemu_uart_rx_handler(void);
#endif

void Reset_Handler(void) __attribute__((noreturn));
void tr_fault_dispatch(uint32_t *frame);
void tr_hal_on_fault(void (*recover)(void));
void Fault_Handler(void);
void Default_Handler(void);

/* newlib's __libc_init_array calls _init; there is no crti.o without the start files */
void _init(void) {}
void _fini(void) {}

#define VECTOR_COUNT 64
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
__attribute__((section(".isr_vector"), used)) void (*const tr_vectors[VECTOR_COUNT])(void) = {
    (void (*)(void))(&__stack_top),
    Reset_Handler,
    Default_Handler, /* NMI */
    Fault_Handler,   /* HardFault */
    Fault_Handler,   /* MemManage */
    Fault_Handler,   /* BusFault */
    Fault_Handler,   /* UsageFault */
    Fault_Handler,   /* SecureFault (v8-M) */
    0, 0, 0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMonitor */
    0,
    Default_Handler, /* PendSV */
    tr_qemu_systick_handler,
    /* external interrupts: the UART's receive interrupt where the board flags name it */
    [16 ... VECTOR_COUNT - 1] = Default_Handler,
#ifdef TR_UART0_RX_IRQ
    [16 + TR_UART0_RX_IRQ] = tr_qemu_uart_rx_handler, /* overrides the default above */
#endif
};
#pragma GCC diagnostic pop

static char cmdline[1024];
static char *argv_buf[32];

static int split_args(char *line) {
  int argc = 0;
  char *p = line;
  while (*p && argc < (int)(sizeof argv_buf / sizeof argv_buf[0]) - 1) {
    while (*p == ' ') *p++ = '\0';
    if (!*p) break;
    argv_buf[argc++] = p;
    while (*p && *p != ' ') p++;
  }
  argv_buf[argc] = 0;
  return argc;
}

void Reset_Handler(void) {
  /* CP10 and CP11 full access: the FPU (and MVE on v8.1-M) fault until enabled */
  volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
  *cpacr |= 0xFu << 20;
  __asm volatile("dsb\n\tisb" ::: "memory");
  memset(&__bss_start__, 0, (size_t)((char *)&__bss_end__ - (char *)&__bss_start__));
  initialise_monitor_handles();
  __libc_init_array();
  struct { char *buf; int len; } block = {cmdline, (int)sizeof cmdline - 1};
  int argc = 0;
  if (tr_semihost(TR_SEMI_GET_CMDLINE, &block) == 0) argc = split_args(cmdline);
  exit(main(argc, argv_buf));
}

/* A fault with a recovery hook set (tr_hal_on_fault) resumes thread mode in the hook: the
 * stacked PC is replaced and the exception returns. Without a hook the fault is reported and
 * QEMU exits. */
static void (*volatile fault_hook)(void);

void tr_hal_on_fault(void (*recover)(void)) { fault_hook = recover; }

void tr_fault_dispatch(uint32_t *frame) {
  volatile uint32_t *cfsr = (volatile uint32_t *)0xE000ED28u;
  volatile uint32_t *hfsr = (volatile uint32_t *)0xE000ED2Cu;
  uint32_t status = *cfsr;
  if (fault_hook) {
    *cfsr = status; /* write-one-to-clear */
    *hfsr = *hfsr;
    frame[6] = (uint32_t)(uintptr_t)fault_hook; /* return address */
    frame[7] = 1u << 24;                        /* xPSR: Thumb state only */
    return;
  }
  static char msg[96] = "{\"error\":\"fault\",\"reason\":\"the core took a fault, CFSR=0x00000000\"}\n";
  static const char hex[] = "0123456789abcdef";
  char *at = strstr(msg, "0x") + 2;
  for (int i = 0; i < 8; i++) at[i] = hex[(status >> (28 - 4 * i)) & 15u];
  tr_semihost(TR_SEMI_WRITE0, msg);
  tr_semihost_exit(0x20023u); /* ADP_Stopped_RunTimeErrorUnknown: QEMU exits with status 1 */
}

__attribute__((naked)) void Fault_Handler(void) {
  __asm__ volatile(
      "tst lr, #4\n\t"
      "ite eq\n\t"
      "mrseq r0, msp\n\t"
      "mrsne r0, psp\n\t"
      "b tr_fault_dispatch\n\t");
}

void Default_Handler(void) { Fault_Handler(); }
