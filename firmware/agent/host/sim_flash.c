/* The simulated NOR flash of the host unit tests: program only clears bits, erase sets a page to
 * 0xFF, and a power cut after N operations leaves operation N torn and unwinds with longjmp. */
#include "sim_flash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinyreg/hal.h"

/* ---- the simulated flash ------------------------------------------------------------------ */

uint8_t flash[PAGE * SIM_MAX_PAGES];
uint32_t sim_pages = 16u; /* two slots of 8 pages: 7 KiB of image each */
long ops_left = -1; /* flash operations before the power cut; -1: never */
long ops_done;
jmp_buf cut;
static unsigned rng = 12345u;

static unsigned next_rand(void) {
  rng = rng * 1103515245u + 12345u;
  return (rng >> 16) & 0x7fffu;
}

static int power_cut_now(void) {
  ops_done++;
  if (ops_left < 0) return 0;
  if (ops_left == 0) return 1;
  ops_left--;
  return 0;
}

int tr_hal_flash_layout(tr_flash_layout *out) {
  out->page_size = PAGE;
  out->page_count = sim_pages;
  out->write_align = ALIGN;
  return 0;
}

int tr_hal_flash_read(uint32_t offset, void *buf, uint32_t len) {
  if (offset > (PAGE * sim_pages) || len > (PAGE * sim_pages) - offset) return TR_HAL_EINVAL;
  memcpy(buf, flash + offset, len);
  return 0;
}

int tr_hal_flash_program(uint32_t offset, const void *buf, uint32_t len) {
  if (offset % ALIGN || len % ALIGN || offset > (PAGE * sim_pages) || len > (PAGE * sim_pages) - offset) {
    return TR_HAL_EINVAL;
  }
  const uint8_t *p = (const uint8_t *)buf;
  for (uint32_t i = 0; i < len; i++) {
    if ((flash[offset + i] & p[i]) != p[i]) {
      fprintf(stderr, "program over unerased byte at %u\n", offset + i);
      abort();
    }
  }
  if (power_cut_now()) { /* torn: a prefix, then random bits of the next bytes */
    uint32_t keep = len ? (uint32_t)(next_rand() % len) : 0;
    for (uint32_t i = 0; i < keep; i++) flash[offset + i] &= p[i];
    for (uint32_t i = keep; i < len; i++) flash[offset + i] &= (uint8_t)(p[i] | next_rand());
    longjmp(cut, 1);
  }
  for (uint32_t i = 0; i < len; i++) flash[offset + i] &= p[i];
  return 0;
}

int tr_hal_flash_erase_page(uint32_t page) {
  if (page >= sim_pages) return TR_HAL_EINVAL;
  uint8_t *p = flash + page * PAGE;
  if (power_cut_now()) { /* torn: some bytes erased, some old, some random */
    for (uint32_t i = 0; i < PAGE; i++) {
      unsigned r = next_rand() % 3u;
      if (r == 0) p[i] = 0xFF;
      else if (r == 1) p[i] = (uint8_t)next_rand();
    }
    longjmp(cut, 1);
  }
  memset(p, 0xFF, PAGE);
  return 0;
}

int tr_hal_uart_write(const uint8_t *buf, size_t len) { (void)buf; return (int)len; }
int tr_hal_uart_read(uint8_t *buf, size_t len) { (void)buf; (void)len; return 0; }
uint64_t tr_hal_clock_now(void) { return 0; }
const char *tr_hal_clock_kind(void) { return "none"; }
int tr_hal_init(void) { return 0; }
void tr_hal_on_fault(void (*recover)(void)) { (void)recover; }
void tr_hal_reset(void) { abort(); }

