/* Two image slots and their boot records; see slots.h for the trailer and its reading rules. */
#include "slots.h"

#include <string.h>

#include "crc32.h"
#include "sha256.h"

#define HEADER_VERSION 1u
#define FLAG_SET 0x5e7f1a90u

static const uint8_t MAGIC[16] = {'t', 'i', 'n', 'y', 'r', 'e', 'g', '-',
                                  's', 'l', 'o', 't', 0x7b, 0x3c, 0x96, 0xd1};

typedef struct {
  uint32_t version;
  uint32_t size;
  uint32_t seq;
  uint32_t reserved;
  uint8_t sha256[32];
  uint32_t crc; /* CRC-32 of the fields above */
} header_t;

/* trailer field offsets within the trailer page, in units */
enum { F_HEADER = 0, F_MAGIC = 4, F_TRIAL = 5, F_CONFIRMED = 6, F_REJECTED = 7, F_END = 8 };
/* the header (52 bytes) takes units 0..3 when the unit is 16 bytes, fewer when larger */

typedef enum { FLAG_ERASED, FLAG_TORN, FLAG_COMPLETE } flag_t;

static uint32_t round_up(uint32_t v, uint32_t a) { return (v + a - 1u) / a * a; }

const char *tr_slot_state_name(tr_slot_state state) {
  switch (state) {
    case TR_SLOT_EMPTY: return "empty";
    case TR_SLOT_PENDING: return "pending";
    case TR_SLOT_TRIAL: return "trial";
    case TR_SLOT_CONFIRMED: return "confirmed";
    case TR_SLOT_REJECTED: return "rejected";
  }
  return "?";
}

int tr_slots_geometry(tr_slots_geom *g) { return tr_slots_geometry_reserve(g, 0); }

int tr_slots_geometry_reserve(tr_slots_geom *g, uint32_t reserved_pages) {
  tr_flash_layout fl;
  if (tr_hal_flash_layout(&fl) != 0) return TR_SLOTS_EIO;
  if (reserved_pages > fl.page_count) return TR_SLOTS_ELAYOUT;
  fl.page_count -= reserved_pages;
  if (fl.page_size == 0 || fl.write_align == 0 || fl.page_count < 2 * 2) return TR_SLOTS_ELAYOUT;
  memset(g, 0, sizeof *g);
  g->page_size = fl.page_size;
  g->write_align = fl.write_align;
  g->unit = round_up(16u, fl.write_align);
  if (fl.page_size % g->unit != 0 || (uint32_t)F_END * g->unit > fl.page_size) {
    return TR_SLOTS_ELAYOUT;
  }
  g->pages_per_slot = fl.page_count / TR_SLOT_COUNT;
  g->slot_bytes = g->pages_per_slot * fl.page_size;
  g->image_max = g->slot_bytes - fl.page_size;
  return TR_SLOTS_OK;
}

static uint32_t slot_base(const tr_slots_geom *g, int slot) { return (uint32_t)slot * g->slot_bytes; }
static uint32_t trailer(const tr_slots_geom *g, int slot) {
  return slot_base(g, slot) + g->image_max;
}
static uint32_t field(const tr_slots_geom *g, int slot, int f) {
  /* the header may need more than 4 units of 16; with larger units it needs fewer */
  uint32_t header_units = round_up((uint32_t)sizeof(header_t), g->unit) / g->unit;
  uint32_t index = f == F_HEADER ? 0u : header_units + (uint32_t)(f - F_MAGIC);
  return trailer(g, slot) + index * g->unit;
}

static int valid_slot(int slot) { return slot >= 0 && slot < TR_SLOT_COUNT; }

static int read_flag(const tr_slots_geom *g, int slot, int f, flag_t *out) {
  uint8_t buf[16];
  if (tr_hal_flash_read(field(g, slot, f), buf, sizeof buf) != 0) return TR_SLOTS_EIO;
  int erased = 1;
  for (unsigned i = 0; i < sizeof buf; i++) erased &= buf[i] == 0xFFu;
  uint32_t value;
  memcpy(&value, buf, 4);
  int rest_erased = 1;
  for (unsigned i = 4; i < sizeof buf; i++) rest_erased &= buf[i] == 0xFFu;
  *out = erased ? FLAG_ERASED : (value == FLAG_SET && rest_erased) ? FLAG_COMPLETE : FLAG_TORN;
  return TR_SLOTS_OK;
}

/* Program one trailer field: its unit(s) hold data, the rest of the unit(s) stays erased. */
static int program_field(const tr_slots_geom *g, int slot, int f, const void *data, uint32_t len) {
  uint8_t unit[64];
  uint32_t at = field(g, slot, f);
  const uint8_t *p = (const uint8_t *)data;
  uint32_t total = round_up(len, g->unit);
  for (uint32_t done = 0; done < total;) {
    uint32_t step = g->unit <= sizeof unit ? g->unit : 0;
    if (step == 0) return TR_SLOTS_ELAYOUT;
    memset(unit, 0xFF, step);
    if (done < len) memcpy(unit, p + done, len - done < step ? len - done : step);
    if (tr_hal_flash_program(at + done, unit, step) != 0) return TR_SLOTS_EIO;
    done += step;
  }
  return TR_SLOTS_OK;
}

static int set_flag(const tr_slots_geom *g, int slot, int f) {
  uint32_t v = FLAG_SET;
  return program_field(g, slot, f, &v, sizeof v);
}

static int image_sha256(const tr_slots_geom *g, int slot, uint32_t size, uint8_t out[32]) {
  tr_sha256_ctx ctx;
  uint8_t buf[256];
  tr_sha256_init(&ctx);
  for (uint32_t off = 0; off < size;) {
    uint32_t n = size - off < sizeof buf ? size - off : (uint32_t)sizeof buf;
    if (tr_hal_flash_read(slot_base(g, slot) + off, buf, n) != 0) return TR_SLOTS_EIO;
    tr_sha256_update(&ctx, buf, n);
    off += n;
  }
  tr_sha256_final(&ctx, out);
  return TR_SLOTS_OK;
}

static int read_header(const tr_slots_geom *g, int slot, header_t *h, int *ok) {
  if (tr_hal_flash_read(field(g, slot, F_HEADER), h, sizeof *h) != 0) return TR_SLOTS_EIO;
  *ok = h->version == HEADER_VERSION &&
        h->crc == tr_crc32(h, offsetof(header_t, crc)) && h->size <= g->image_max;
  return TR_SLOTS_OK;
}

int tr_slot_info_read(const tr_slots_geom *g, int slot, tr_slot_info *info) {
  if (!valid_slot(slot)) return TR_SLOTS_EARG;
  memset(info, 0, sizeof *info);
  info->state = TR_SLOT_EMPTY;
  uint8_t magic[16];
  if (tr_hal_flash_read(field(g, slot, F_MAGIC), magic, sizeof magic) != 0) return TR_SLOTS_EIO;
  if (memcmp(magic, MAGIC, sizeof magic) != 0) return TR_SLOTS_OK;
  header_t h;
  int ok;
  if (read_header(g, slot, &h, &ok) != 0) return TR_SLOTS_EIO;
  if (!ok) return TR_SLOTS_OK;
  uint8_t digest[32];
  if (image_sha256(g, slot, h.size, digest) != 0) return TR_SLOTS_EIO;
  if (memcmp(digest, h.sha256, 32) != 0) return TR_SLOTS_OK;
  info->size = h.size;
  info->seq = h.seq;
  memcpy(info->sha256, h.sha256, 32);
  flag_t trial, confirmed, rejected;
  if (read_flag(g, slot, F_TRIAL, &trial) || read_flag(g, slot, F_CONFIRMED, &confirmed) ||
      read_flag(g, slot, F_REJECTED, &rejected)) {
    return TR_SLOTS_EIO;
  }
  if (rejected != FLAG_ERASED) info->state = TR_SLOT_REJECTED;
  else if (confirmed == FLAG_COMPLETE) info->state = TR_SLOT_CONFIRMED;
  else if (trial != FLAG_ERASED) info->state = TR_SLOT_TRIAL;
  else info->state = TR_SLOT_PENDING;
  return TR_SLOTS_OK;
}

int tr_boot_select(const tr_slots_geom *g, tr_boot_choice *choice) {
  tr_slot_info info[TR_SLOT_COUNT];
  for (int s = 0; s < TR_SLOT_COUNT; s++) {
    int rc = tr_slot_info_read(g, s, &info[s]);
    if (rc != 0) return rc;
  }
  choice->slot = TR_NO_SLOT;
  choice->trial = 0;
  choice->seq = 0;
  choice->size = 0;
  /* slots by descending sequence; only the newest live image may boot unconfirmed */
  int order[TR_SLOT_COUNT] = {0, 1};
  if (info[1].seq > info[0].seq) {
    order[0] = 1;
    order[1] = 0;
  }
  int newest = 1;
  for (int i = 0; i < TR_SLOT_COUNT; i++) {
    int s = order[i];
    tr_slot_state st = info[s].state;
    if (st == TR_SLOT_EMPTY || st == TR_SLOT_REJECTED) continue;
    if (st == TR_SLOT_TRIAL) { /* booted on trial, reset before confirmation: revert */
      if (set_flag(g, s, F_REJECTED) != 0) return TR_SLOTS_EIO;
      newest = 0;
      continue;
    }
    if (st == TR_SLOT_PENDING) {
      if (!newest) continue; /* an older image never confirmed: not a fallback */
      if (set_flag(g, s, F_TRIAL) != 0) return TR_SLOTS_EIO;
      choice->trial = 1;
    }
    choice->slot = s;
    choice->seq = info[s].seq;
    choice->size = info[s].size;
    return TR_SLOTS_OK;
  }
  return TR_SLOTS_OK;
}

int tr_slot_install_target(const tr_boot_choice *running) {
  return running->slot == 0 ? 1 : 0;
}

int tr_slots_next_seq(const tr_slots_geom *g, uint32_t *seq) {
  uint32_t top = 0;
  for (int s = 0; s < TR_SLOT_COUNT; s++) {
    header_t h;
    int ok;
    if (read_header(g, s, &h, &ok) != 0) return TR_SLOTS_EIO;
    if (ok && h.seq > top) top = h.seq;
  }
  *seq = top + 1u;
  return TR_SLOTS_OK;
}

int tr_slot_erase(const tr_slots_geom *g, int slot) {
  if (!valid_slot(slot)) return TR_SLOTS_EARG;
  /* the trailer page first: from then on the slot holds no complete image */
  uint32_t first = (uint32_t)slot * g->pages_per_slot;
  if (tr_hal_flash_erase_page(first + g->pages_per_slot - 1u) != 0) return TR_SLOTS_EIO;
  for (uint32_t p = 0; p + 1u < g->pages_per_slot; p++) {
    if (tr_hal_flash_erase_page(first + p) != 0) return TR_SLOTS_EIO;
  }
  return TR_SLOTS_OK;
}

int tr_slot_write(const tr_slots_geom *g, int slot, uint32_t offset, const uint8_t *data,
                  uint32_t len) {
  if (!valid_slot(slot) || offset % g->unit != 0) return TR_SLOTS_EARG;
  if (offset > g->image_max || len > g->image_max - offset) return TR_SLOTS_ETOOBIG;
  uint32_t whole = len / g->write_align * g->write_align;
  if (whole && tr_hal_flash_program(slot_base(g, slot) + offset, data, whole) != 0) {
    return TR_SLOTS_EIO;
  }
  if (whole < len) { /* a short tail, padded with erased bytes */
    uint8_t unit[64];
    if (g->write_align > sizeof unit) return TR_SLOTS_ELAYOUT;
    memset(unit, 0xFF, g->write_align);
    memcpy(unit, data + whole, len - whole);
    if (tr_hal_flash_program(slot_base(g, slot) + offset + whole, unit, g->write_align) != 0) {
      return TR_SLOTS_EIO;
    }
  }
  return TR_SLOTS_OK;
}

int tr_slot_finish(const tr_slots_geom *g, int slot, uint32_t size, uint32_t seq) {
  if (!valid_slot(slot)) return TR_SLOTS_EARG;
  if (size > g->image_max) return TR_SLOTS_ETOOBIG;
  header_t h;
  memset(&h, 0, sizeof h);
  h.version = HEADER_VERSION;
  h.size = size;
  h.seq = seq;
  if (image_sha256(g, slot, size, h.sha256) != 0) return TR_SLOTS_EIO;
  h.crc = tr_crc32(&h, offsetof(header_t, crc));
  if (program_field(g, slot, F_HEADER, &h, sizeof h) != 0) return TR_SLOTS_EIO;
  return program_field(g, slot, F_MAGIC, MAGIC, sizeof MAGIC); /* the commit record, last */
}

int tr_slot_clear_trailer(const tr_slots_geom *g, int slot) {
  if (!valid_slot(slot)) return TR_SLOTS_EARG;
  uint8_t buf[64];
  for (uint32_t off = 0; off < g->page_size; off += sizeof buf) {
    uint32_t n = g->page_size - off < sizeof buf ? g->page_size - off : (uint32_t)sizeof buf;
    if (tr_hal_flash_read(trailer(g, slot) + off, buf, n) != 0) return TR_SLOTS_EIO;
    for (uint32_t i = 0; i < n; i++) {
      if (buf[i] != 0xFFu) {
        uint32_t page = (uint32_t)slot * g->pages_per_slot + g->pages_per_slot - 1u;
        return tr_hal_flash_erase_page(page) == 0 ? TR_SLOTS_OK : TR_SLOTS_EIO;
      }
    }
  }
  return TR_SLOTS_OK;
}

int tr_slot_confirm(const tr_slots_geom *g, int slot) {
  tr_slot_info info;
  int rc = tr_slot_info_read(g, slot, &info);
  if (rc != 0) return rc;
  if (info.state == TR_SLOT_CONFIRMED) return TR_SLOTS_OK;
  if (info.state != TR_SLOT_TRIAL) return TR_SLOTS_ESTATE;
  return set_flag(g, slot, F_CONFIRMED);
}

int tr_slot_read(const tr_slots_geom *g, int slot, uint32_t offset, void *buf, uint32_t len) {
  if (!valid_slot(slot)) return TR_SLOTS_EARG;
  if (offset > g->image_max || len > g->image_max - offset) return TR_SLOTS_ETOOBIG;
  return tr_hal_flash_read(slot_base(g, slot) + offset, buf, len) == 0 ? TR_SLOTS_OK : TR_SLOTS_EIO;
}
