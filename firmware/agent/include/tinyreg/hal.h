/* The hardware seam of the tinyreg agent: everything the portable core needs from a board.
 *
 * A port (ports/qemu/ for the QEMU MPS2/MPS3 boards, host/ for the unit tests on the build
 * machine) implements these functions; the portable core (core/, app/) includes only this
 * header, never a board or vendor header.
 *
 * Flash follows Zephyr's flash API and MCUboot's flash map: the layout (page size, page count,
 * program granularity) is queried, never assumed; programming only clears bits of erased
 * memory; erase works on whole pages and sets every byte to 0xFF.
 */
#ifndef TINYREG_HAL_H
#define TINYREG_HAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every HAL call returns 0 on success or a negative tr_hal_err. */
enum tr_hal_err {
  TR_HAL_OK = 0,
  TR_HAL_EIO = -1,    /* the device failed */
  TR_HAL_EINVAL = -2, /* out of range or misaligned */
};

/* ---- flash --------------------------------------------------------------------------------- */

typedef struct {
  uint32_t page_size;   /* erase unit, bytes */
  uint32_t page_count;  /* pages in the area the agent owns (the slots and their trailers) */
  uint32_t write_align; /* program unit: offsets and lengths of programs are multiples of it */
} tr_flash_layout;

int tr_hal_flash_layout(tr_flash_layout *out);
int tr_hal_flash_read(uint32_t offset, void *buf, uint32_t len);
/* Program erased bytes; offset and len must be multiples of write_align. */
int tr_hal_flash_program(uint32_t offset, const void *buf, uint32_t len);
int tr_hal_flash_erase_page(uint32_t page);

/* ---- transport (a UART): non-blocking byte streams ------------------------------------------ */

/* Write up to len bytes; returns how many were taken (>= 0) or a negative error. */
int tr_hal_uart_write(const uint8_t *buf, size_t len);
/* Read up to len bytes that have arrived; returns how many (0 when none) or a negative error. */
int tr_hal_uart_read(uint8_t *buf, size_t len);

/* Wait for something to happen (a byte received, a timer tick) without spinning the core; may
 * return at once (a port without a receive interrupt polls). */
void tr_hal_idle(void);

/* ---- clock ---------------------------------------------------------------------------------- */

/* A monotonic 64-bit clock. On QEMU with -icount shift=0 it counts guest instructions (not
 * cycles); on a board it counts core clock cycles. tr_hal_clock_kind() says which. */
uint64_t tr_hal_clock_now(void);
const char *tr_hal_clock_kind(void);

/* ---- reset and start-up --------------------------------------------------------------------- */

int tr_hal_init(void);
/* While a hook is set, a fault (memory, bus, usage) does not stop the device: thread mode
 * resumes in `recover`, which must not return (it abandons one unit of work, e.g. with longjmp).
 * NULL restores the default: report the fault and stop. */
void tr_hal_on_fault(void (*recover)(void));
void tr_hal_reset(void) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif /* TINYREG_HAL_H */
