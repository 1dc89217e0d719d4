/* The simulated NOR flash of the host unit tests, with power-cut injection (see host_test.c). */
#ifndef TINYREG_SIM_FLASH_H
#define TINYREG_SIM_FLASH_H

#include <setjmp.h>
#include <stdint.h>

#define PAGE 1024u
#define SIM_MAX_PAGES 64u
#define ALIGN 8u

extern uint8_t flash[PAGE * SIM_MAX_PAGES];
extern uint32_t sim_pages; /* pages the HAL reports (at most SIM_MAX_PAGES) */
extern long ops_left;      /* flash operations before the power cut; -1: never */
extern long ops_done;
extern jmp_buf cut;        /* where a power cut unwinds to */

#endif
