/* The QEMU port of the HAL (mps2-an386, mps3-an547).
 *
 * flash   a host file reached through semihosting file calls, so the flash
 *         image survives the QEMU process; NOR semantics are kept (program clears bits, erase sets
 *         a page to 0xFF). Page size and count are this port's choice, reported by the layout.
 * uart    the CMSDK APB UART0 of the board (QEMU's first serial port), polled.
 * clock   SysTick on the processor clock with a wrap counter. Under `-icount shift=0` QEMU runs
 *         one guest instruction per virtual nanosecond, so ticks * 1e9 / clock are guest
 *         instructions (not cycles): 40 per tick at 25 MHz (an386), 31.25 at 32 MHz (an547).
 * reset   SCB AIRCR.SYSRESETREQ.
 */
#include <stdint.h>
#include <string.h>

#include "semihosting.h"
#include "tinyreg/hal.h"

#ifndef TR_SYSCLK_HZ
#error "TR_SYSCLK_HZ must be set by the board flags"
#endif
#ifndef TR_FLASH_PAGE_SIZE
#define TR_FLASH_PAGE_SIZE 4096u
#endif
#ifndef TR_FLASH_PAGE_COUNT
#define TR_FLASH_PAGE_COUNT 512u /* 2 MiB: two slots of 1 MiB */
#endif
#define TR_FLASH_WRITE_ALIGN 4u

#define REG(addr) (*(volatile uint32_t *)(addr))

/* ---- flash ------------------------------------------------------------------------------- */
/* Semihosting file calls, not newlib stdio: newlib-nano writes an unbuffered stream one byte
 * per call, and every semihosting call is a trap into QEMU. */

#define SEMI_OPEN 0x01
#define SEMI_WRITE 0x05
#define SEMI_READ 0x06
#define SEMI_SEEK 0x0A
#define SEMI_FLEN 0x0C
#define SEMI_MODE_RB_PLUS 3 /* "r+b" */
#define SEMI_MODE_WB_PLUS 7 /* "w+b" */

static int flash_handle = -1;
static const char *flash_path = "tinyreg-flash.img";
static uint8_t erased_page[TR_FLASH_PAGE_SIZE];

void tr_qemu_set_flash_path(const char *path) { flash_path = path; }

static int semi_open(const char *path, int mode) {
  uint32_t block[3] = {(uint32_t)(uintptr_t)path, (uint32_t)mode, (uint32_t)strlen(path)};
  return tr_semihost(SEMI_OPEN, block);
}

static int semi_seek(uint32_t pos) {
  uint32_t block[2] = {(uint32_t)flash_handle, pos};
  return tr_semihost(SEMI_SEEK, block) == 0 ? 0 : TR_HAL_EIO;
}

static int semi_write(const void *buf, uint32_t len) {
  uint32_t block[3] = {(uint32_t)flash_handle, (uint32_t)(uintptr_t)buf, len};
  return tr_semihost(SEMI_WRITE, block) == 0 ? 0 : TR_HAL_EIO; /* returns bytes not written */
}

static int semi_read(void *buf, uint32_t len) {
  uint32_t block[3] = {(uint32_t)flash_handle, (uint32_t)(uintptr_t)buf, len};
  return tr_semihost(SEMI_READ, block) == 0 ? 0 : TR_HAL_EIO; /* returns bytes not read */
}

static int flash_open(void) {
  if (flash_handle >= 0) return 0;
  memset(erased_page, 0xFF, sizeof erased_page);
  flash_handle = semi_open(flash_path, SEMI_MODE_RB_PLUS);
  if (flash_handle < 0) flash_handle = semi_open(flash_path, SEMI_MODE_WB_PLUS);
  if (flash_handle < 0) return TR_HAL_EIO;
  /* a new or short file is extended with erased pages */
  uint32_t block[1] = {(uint32_t)flash_handle};
  int size = tr_semihost(SEMI_FLEN, block);
  if (size < 0) return TR_HAL_EIO;
  uint32_t page = (uint32_t)size / TR_FLASH_PAGE_SIZE;
  if (semi_seek(page * TR_FLASH_PAGE_SIZE) != 0) return TR_HAL_EIO;
  for (; page < TR_FLASH_PAGE_COUNT; page++) {
    if (semi_write(erased_page, TR_FLASH_PAGE_SIZE) != 0) return TR_HAL_EIO;
  }
  return 0;
}

static int in_range(uint32_t offset, uint32_t len) {
  uint32_t total = TR_FLASH_PAGE_SIZE * TR_FLASH_PAGE_COUNT;
  return offset <= total && len <= total - offset;
}

int tr_hal_flash_layout(tr_flash_layout *out) {
  out->page_size = TR_FLASH_PAGE_SIZE;
  out->page_count = TR_FLASH_PAGE_COUNT;
  out->write_align = TR_FLASH_WRITE_ALIGN;
  return 0;
}

int tr_hal_flash_read(uint32_t offset, void *buf, uint32_t len) {
  if (!in_range(offset, len)) return TR_HAL_EINVAL;
  if (flash_open() != 0 || semi_seek(offset) != 0) return TR_HAL_EIO;
  return semi_read(buf, len);
}

int tr_hal_flash_program(uint32_t offset, const void *buf, uint32_t len) {
  if (!in_range(offset, len) || offset % TR_FLASH_WRITE_ALIGN || len % TR_FLASH_WRITE_ALIGN) {
    return TR_HAL_EINVAL;
  }
  static uint8_t old[1024];
  const uint8_t *p = (const uint8_t *)buf;
  for (uint32_t done = 0; done < len;) {
    uint32_t n = len - done < sizeof old ? len - done : (uint32_t)sizeof old;
    if (tr_hal_flash_read(offset + done, old, n) != 0) return TR_HAL_EIO;
    for (uint32_t i = 0; i < n; i++) old[i] &= p[done + i]; /* NOR: programming clears bits */
    if (semi_seek(offset + done) != 0 || semi_write(old, n) != 0) return TR_HAL_EIO;
    done += n;
  }
  return 0;
}

int tr_hal_flash_erase_page(uint32_t page) {
  if (page >= TR_FLASH_PAGE_COUNT) return TR_HAL_EINVAL;
  if (flash_open() != 0 || semi_seek(page * TR_FLASH_PAGE_SIZE) != 0) return TR_HAL_EIO;
  return semi_write(erased_page, TR_FLASH_PAGE_SIZE);
}

/* ---- UART: CMSDK APB UART ------------------------------------------------------------------ */

#define UART_DATA REG(TR_UART0_BASE + 0x00u)
#define UART_STATE REG(TR_UART0_BASE + 0x04u)
#define UART_CTRL REG(TR_UART0_BASE + 0x08u)
#define UART_INTSTATUS REG(TR_UART0_BASE + 0x0Cu)
#define UART_BAUDDIV REG(TR_UART0_BASE + 0x10u)
#define NVIC_ISER(irq) REG(0xE000E100u + 4u * ((irq) / 32u))
#define UART_STATE_TXFULL 1u
#define UART_STATE_RXFULL 2u

static void uart_init(void) {
  UART_BAUDDIV = 16u; /* the smallest divider; QEMU does not pace the line */
#ifdef TR_UART0_RX_IRQ
  UART_CTRL = 3u | 8u; /* TX and RX enabled, the RX interrupt (bit 3) wakes tr_hal_idle */
  NVIC_ISER(TR_UART0_RX_IRQ) = 1u << (TR_UART0_RX_IRQ % 32u);
#else
  UART_CTRL = 3u; /* TX and RX enabled, no interrupts */
#endif
}

#ifdef TR_UART0_RX_IRQ
void tr_qemu_uart_rx_handler(void) { UART_INTSTATUS = 2u; /* RX interrupt cleared */ }
#endif

void tr_hal_idle(void) {
#ifdef TR_UART0_RX_IRQ
  /* with interrupts masked a pending one still ends the WFI: no byte slips in between */
  __asm__ volatile("cpsid i" ::: "memory");
  if (!(UART_STATE & UART_STATE_RXFULL)) __asm__ volatile("dsb\n\twfi" ::: "memory");
  __asm__ volatile("cpsie i" ::: "memory");
#endif
}

int tr_hal_uart_write(const uint8_t *buf, size_t len) {
  size_t n = 0;
  while (n < len && !(UART_STATE & UART_STATE_TXFULL)) UART_DATA = buf[n++];
  return (int)n;
}

int tr_hal_uart_read(uint8_t *buf, size_t len) {
  size_t n = 0;
  while (n < len && (UART_STATE & UART_STATE_RXFULL)) buf[n++] = (uint8_t)UART_DATA;
  return (int)n;
}

/* ---- clock: SysTick ------------------------------------------------------------------------ */

#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define SCB_ICSR REG(0xE000ED04u)
#define ICSR_PENDSTSET (1u << 26)
#define SYST_RELOAD 0x00FFFFFFu

static volatile uint32_t systick_wraps;

void tr_qemu_systick_handler(void) { systick_wraps++; }

static void clock_init(void) {
  SYST_RVR = SYST_RELOAD;
  SYST_CVR = 0;
  SYST_CSR = 7u; /* enable, interrupt on wrap, processor clock */
  while (SYST_CVR == 0u) {
    /* the counter reads 0 until its first tick loads the reload value */
  }
}

static uint64_t ticks(void) {
  uint32_t primask;
  __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
  uint32_t wraps = systick_wraps;
  uint32_t value = SYST_CVR;
  if (SCB_ICSR & ICSR_PENDSTSET) { /* wrapped, interrupt not taken yet */
    value = SYST_CVR;
    wraps++;
  }
  __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
  return (uint64_t)wraps * (SYST_RELOAD + 1u) + (SYST_RELOAD - value);
}

uint64_t tr_hal_clock_now(void) {
  /* ticks at TR_SYSCLK_HZ; one virtual ns per instruction under -icount shift=0 */
  return ticks() * 1000u / (TR_SYSCLK_HZ / 1000000u);
}

const char *tr_hal_clock_kind(void) { return "instructions (QEMU -icount shift=0, SysTick)"; }

/* ---- MPU: the code memory read-only -------------------------------------------------------- */
/* On these boards the code lives in RAM from address 0, so a write through a null pointer would
 * silently overwrite the vector table and code. Made read-only, such a write faults, and the
 * fault handler reports it. The rest of the map stays as the default (PRIVDEFENA). */

extern const uint8_t __vectors_start[], __text_end[];

#define MPU_CTRL REG(0xE000ED94u)
#define MPU_RNR REG(0xE000ED98u)
#define MPU_RBAR REG(0xE000ED9Cu)
#define MPU_RASR_RLAR REG(0xE000EDA0u)
#define MPU_MAIR0 REG(0xE000EDC0u)
#define SCB_SHCSR REG(0xE000ED24u)

static void mpu_region(uint32_t index, uint32_t base, uint32_t size) {
  MPU_RNR = index;
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
  /* v8-M: base and limit (32-byte granules); AP = read-only at any privilege; attribute 0 */
  MPU_RBAR = (base & ~31u) | (3u << 1);
  MPU_RASR_RLAR = ((base + size - 1u) & ~31u) | 1u;
#else
  /* v7-M: power-of-two region, AP = 0b110 read-only, normal memory (TEX=1, C=0, B=0) */
  uint32_t log2 = 5;
  while ((1u << log2) < size) log2++;
  MPU_RBAR = base & ~((1u << log2) - 1u);
  MPU_RASR_RLAR = (6u << 24) | (1u << 19) | ((log2 - 1u) << 1) | 1u;
#endif
}

static void mpu_init(void) {
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
  MPU_MAIR0 = 0x44u; /* attribute 0: normal memory, non-cacheable */
  mpu_region(0, 0u, 512u * 1024u);                          /* the ITCM with the vectors */
  mpu_region(1, 0x01000000u, (uint32_t)(__text_end - (const uint8_t *)0x01000000u));
#else
  mpu_region(0, 0u, (uint32_t)(__text_end - __vectors_start));
#endif
  SCB_SHCSR |= 1u << 16; /* MemManage faults enabled (else they escalate to HardFault) */
  MPU_CTRL = 5u;         /* enable, default map for everything else */
  __asm__ volatile("dsb\n\tisb" ::: "memory");
}

/* ---- init and reset ------------------------------------------------------------------------- */

int tr_hal_init(void) {
  mpu_init();
  uart_init();
  clock_init();
  return 0;
}

void tr_hal_reset(void) {
  __asm__ volatile("dsb" ::: "memory");
  REG(0xE000ED0Cu) = (0x5FAu << 16) | (1u << 2); /* AIRCR: VECTKEY, SYSRESETREQ */
  __asm__ volatile("dsb" ::: "memory");
  for (;;) {
  }
}
