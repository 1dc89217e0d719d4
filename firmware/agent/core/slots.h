/* Two image slots and their boot records (MCUboot-style trailers), on the flash HAL.
 *
 * The flash area the HAL reports is split in two equal slots. The last page of each slot is its
 * trailer; the rest holds the image. Trailer fields, each in its own program unit(s):
 *
 *   header     version, image size, sequence, SHA-256 of the image, CRC-32 of the header
 *   magic      16 bytes, programmed only after the image and the header: the commit record
 *   trial      programmed when the image is first booted on trial
 *   confirmed  programmed when the running trial image passed its self-test
 *   rejected   programmed when a trial image was found unconfirmed at the next boot
 *
 * Each field is programmed once after the slot is erased, in that order, and read so that a
 * power cut cannot be misread: an image counts only with a complete magic, a header whose CRC
 * holds and an image whose SHA-256 matches; "trial" and "rejected" count as soon as any bit of
 * them is programmed (a torn write errs towards the previous image); "confirmed" counts only
 * when its value is complete. See docs/firmware.md for the argument, host/host_test.c for the
 * power-cut tests.
 */
#ifndef TINYREG_SLOTS_H
#define TINYREG_SLOTS_H

#include <stdint.h>

#include "tinyreg/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TR_SLOT_COUNT 2
#define TR_NO_SLOT (-1)

enum tr_slots_err {
  TR_SLOTS_OK = 0,
  TR_SLOTS_EIO = -10,       /* the flash HAL failed */
  TR_SLOTS_ELAYOUT = -11,   /* the flash is too small or oddly shaped for two slots */
  TR_SLOTS_ETOOBIG = -12,   /* the image is larger than a slot */
  TR_SLOTS_ESTATE = -13,    /* the operation does not apply to the slot's state */
  TR_SLOTS_EARG = -14,      /* bad argument (slot number, misaligned offset) */
};

typedef struct {
  uint32_t page_size;
  uint32_t write_align;
  uint32_t unit;            /* trailer field unit: write_align rounded up to 16 bytes */
  uint32_t pages_per_slot;
  uint32_t slot_bytes;
  uint32_t image_max;       /* bytes available to an image in a slot */
} tr_slots_geom;

typedef enum {
  TR_SLOT_EMPTY = 0,  /* no complete image (erased, half written, or corrupt) */
  TR_SLOT_PENDING,    /* complete, never booted */
  TR_SLOT_TRIAL,      /* booted on trial, not confirmed */
  TR_SLOT_CONFIRMED,  /* confirmed */
  TR_SLOT_REJECTED,   /* was on trial and not confirmed before a reset: reverted */
} tr_slot_state;

typedef struct {
  tr_slot_state state;
  uint32_t size;
  uint32_t seq;
  uint8_t sha256[32];
} tr_slot_info;

typedef struct {
  int slot;       /* TR_NO_SLOT when nothing can boot */
  int trial;      /* 1 when the slot boots on trial and must be confirmed */
  uint32_t seq;
  uint32_t size;
} tr_boot_choice;

const char *tr_slot_state_name(tr_slot_state state);

int tr_slots_geometry(tr_slots_geom *geom);
/* The same, with the last `reserved_pages` pages of the flash area left out of the slots (the OTA
 * state records live there, see ota.h). */
int tr_slots_geometry_reserve(tr_slots_geom *geom, uint32_t reserved_pages);
/* Read a slot's trailer and (for complete images) verify the image's SHA-256. */
int tr_slot_info_read(const tr_slots_geom *geom, int slot, tr_slot_info *info);
/* Choose the slot to boot; marks a new image "trial" and an unconfirmed trial "rejected". */
int tr_boot_select(const tr_slots_geom *geom, tr_boot_choice *choice);
/* The slot a new image goes to, given what booted (the other one; slot 0 when none booted). */
int tr_slot_install_target(const tr_boot_choice *running);
/* Sequence number for the next image: one above every sequence found in a trailer. */
int tr_slots_next_seq(const tr_slots_geom *geom, uint32_t *seq);

/* Writing an image: erase, program the image (offsets multiple of geom->unit; the last chunk may
 * be short), then finish, which programs the header and, last, the magic. */
int tr_slot_erase(const tr_slots_geom *geom, int slot);
int tr_slot_write(const tr_slots_geom *geom, int slot, uint32_t offset, const uint8_t *data,
                  uint32_t len);
int tr_slot_finish(const tr_slots_geom *geom, int slot, uint32_t size, uint32_t seq);
/* Erase the slot's trailer page unless it is erased already (a finish torn by a reset), leaving the
 * image bytes as they are. */
int tr_slot_clear_trailer(const tr_slots_geom *geom, int slot);
/* Confirm the slot running on trial. */
int tr_slot_confirm(const tr_slots_geom *geom, int slot);
/* Read image bytes of a slot. */
int tr_slot_read(const tr_slots_geom *geom, int slot, uint32_t offset, void *buf, uint32_t len);

#ifdef __cplusplus
}
#endif

#endif
