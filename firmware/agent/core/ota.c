/* The device side of the OTA protocol version 2; see ota.h and firmware/PROTOCOL.md. */
#include "ota.h"

#include <stdio.h>
#include <string.h>

#include "crc32.h"
#include "optional/monocypher-ed25519.h"
#include "sha256.h"

#define STATE_MAGIC 0x54525334u    /* "TRS4": images with the transfer that delivered them */
#define TRANSFER_MAGIC 0x54525458u /* "TRTX" */
#define KIND_MANIFEST 1u
#define KIND_COMMAND 2u
#define FLAG_ALLOW_DOWNGRADE 0x01u
#define MAX_WINDOW 4096u
#define MAX_SEQ 0x7fffffffffffffffull
#define HEADER_BYTES 144u
#define RECORD_BUF 512u
#define LOG_START RECORD_BUF /* the transfer log follows the transfer record in its page */
#define LOG_ENTRY 16u

/* an image the state names: the committed one, or the one before it (the rollback target) */
typedef struct {
  int32_t slot;
  uint32_t size;
  uint32_t arena_bytes;
  uint8_t sha256[32];
  char model[65];
  char version[33];
  uint8_t pad[2];
  uint8_t transfer[16]; /* the transfer that delivered the image */
  uint64_t seq;         /* the sequence number of its manifest */
} image_record;

typedef struct {
  uint32_t magic;
  uint32_t generation;
  uint64_t last_seq;
  uint8_t key[32];
  uint32_t key_rotated;
  uint32_t has_image;
  uint32_t has_previous;
  uint32_t boots;
  image_record image;
  image_record previous;
  uint32_t crc; /* CRC-32 of the bytes before it */
} state_record;

typedef struct {
  uint32_t magic;
  int32_t slot;
  uint8_t message[TR_OTA_MANIFEST_BYTES];
  uint32_t crc;
} transfer_record;

/* One line of the transfer log: chunks [first, first + count) are written, and the CRC-32 of their
 * bytes as the slot holds them (read back when the line is written). */
typedef struct {
  uint32_t first;
  uint32_t count;
  uint32_t data_crc;
  uint32_t crc; /* CRC-32 of the 12 bytes before it: a torn line does not count */
} log_entry;

_Static_assert(sizeof(log_entry) == LOG_ENTRY, "a log line is one entry");
_Static_assert(sizeof(state_record) <= RECORD_BUF, "state record fits its buffer");
_Static_assert(sizeof(transfer_record) <= RECORD_BUF, "transfer record fits its buffer");

static uint8_t record_buf[RECORD_BUF];

const char *tr_ota_code_name(tr_ota_code code) {
  switch (code) {
    case TR_OTA_ACCEPTED: return "accepted";
    case TR_OTA_RESENT: return "resent";
    case TR_OTA_E_LENGTH: return "length";
    case TR_OTA_E_MAGIC: return "magic";
    case TR_OTA_E_SIGNATURE: return "signature";
    case TR_OTA_E_FIELD: return "field";
    case TR_OTA_E_DEVICE: return "device";
    case TR_OTA_E_REPLAY: return "replay";
    case TR_OTA_E_RUNTIME: return "runtime";
    case TR_OTA_E_SLOT: return "slot";
    case TR_OTA_E_ARENA: return "arena";
    case TR_OTA_E_FIT: return "fit";
    case TR_OTA_E_DOWNGRADE: return "downgrade";
    case TR_OTA_E_FLASH: return "flash";
    case TR_OTA_E_REFUSED: return "refused";
    case TR_OTA_CHUNK_OK: return "chunk-ok";
    case TR_OTA_CHUNK_HELD: return "chunk-held";
    case TR_OTA_CHUNK_OTHER: return "chunk-other";
    case TR_OTA_E_CHUNK: return "chunk";
    case TR_OTA_E_VERIFY: return "verify";
    case TR_OTA_E_SELF_TEST: return "self-test";
  }
  return "?";
}

int tr_ota_op_persists(uint8_t op) {
  return op == TR_OP_ABORT || op == TR_OP_ROLLBACK || op == TR_OP_ROTATE_KEY;
}

/* ---- small helpers ---------------------------------------------------------------------------- */

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

static tr_ota_code verdict(tr_ota_verdict *v, tr_ota_code code, const char *stage, const char *fmt,
                           ...) __attribute__((format(printf, 4, 5)));

#include <stdarg.h>
static tr_ota_code verdict(tr_ota_verdict *v, tr_ota_code code, const char *stage, const char *fmt,
                           ...) {
  v->code = code;
  v->stage = stage;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v->reason, sizeof v->reason, fmt, ap);
  va_end(ap);
  return code;
}

static void verdict_ok(tr_ota_verdict *v, tr_ota_code code) {
  v->code = code;
  v->stage = "";
  v->reason[0] = '\0';
}

/* A string field: content, then only NUL bytes; `required`: not empty. Copies it NUL-terminated
 * into out (n + 1 bytes). Returns 1 when well formed. */
static int text_field(const uint8_t *raw, size_t n, int required, char *out) {
  size_t end = n;
  while (end > 0 && raw[end - 1] == 0) end--;
  if (memchr(raw, 0, end) != NULL || (required && end == 0)) return 0;
  memcpy(out, raw, end);
  out[end] = '\0';
  return 1;
}

/* Decimal digits of a 64-bit value (newlib-nano's printf has no %llu). */
static int decimal(uint64_t u, char out[24]) {
  char rev[24];
  int n = 0;
  do {
    rev[n++] = (char)('0' + u % 10u);
    u /= 10u;
  } while (u != 0);
  for (int i = 0; i < n; i++) out[i] = rev[n - 1 - i];
  out[n] = '\0';
  return n;
}

/* Digits of an integer with thousands separators, as Python's "{:,}". */
static void thousands(int64_t value, char out[32]) {
  char digits[24];
  int neg = value < 0;
  uint64_t u = neg ? (uint64_t)(-(value + 1)) + 1u : (uint64_t)value;
  int n = decimal(u, digits);
  size_t o = 0;
  if (neg) out[o++] = '-';
  for (int i = 0; i < n; i++) {
    if (i > 0 && (n - i) % 3 == 0) out[o++] = ',';
    out[o++] = digits[i];
  }
  out[o] = '\0';
}

/* Python's version_key: strip, drop leading v/V, dot-separated parts all digits. Returns the
 * start and end of the usable text, or 0 when it is not such a version. */
static int version_span(const char *s, const char **b, const char **e) {
  const char *start = s, *end = s + strlen(s);
  while (start < end && (*start == ' ' || (*start >= '\t' && *start <= '\r'))) start++;
  while (end > start && (end[-1] == ' ' || (end[-1] >= '\t' && end[-1] <= '\r'))) end--;
  while (start < end && (*start == 'v' || *start == 'V')) start++;
  int part = 0;
  for (const char *p = start; p <= end; p++) {
    if (p == end || *p == '.') {
      if (part == 0) return 0;
      part = 0;
    } else if (*p >= '0' && *p <= '9') {
      part++;
    } else {
      return 0;
    }
  }
  *b = start;
  *e = end;
  return 1;
}

/* <0, 0, >0 as the dotted versions compare numerically (both valid, see version_span). */
static int version_cmp(const char *ab, const char *ae, const char *bb, const char *be) {
  while (1) {
    if (ab >= ae || bb >= be) return (ab < ae) - (bb < be);
    while (ab < ae - 1 && *ab == '0' && ab[1] != '.') ab++;
    while (bb < be - 1 && *bb == '0' && bb[1] != '.') bb++;
    const char *pa = ab, *pb = bb;
    while (pa < ae && *pa != '.') pa++;
    while (pb < be && *pb != '.') pb++;
    if (pa - ab != pb - bb) return (pa - ab) < (pb - bb) ? -1 : 1;
    int c = memcmp(ab, bb, (size_t)(pa - ab));
    if (c != 0) return c;
    ab = pa < ae ? pa + 1 : pa;
    bb = pb < be ? pb + 1 : pb;
    if ((pa == ae) != (pb == be)) return pa == ae ? -1 : 1;
    if (pa == ae) return 0;
  }
}

void tr_ota_key_id(const uint8_t key[32], char out[17]) {
  uint8_t d[32];
  char hex[65];
  tr_sha256(key, 32, d);
  tr_sha256_hex(d, hex);
  memcpy(out, hex, 16);
  out[16] = '\0';
}

/* ---- flash records ---------------------------------------------------------------------------- */

static uint32_t page_offset(const tr_ota *ota, uint32_t index) {
  return (ota->record_page + index) * ota->geom.page_size;
}

static int program_record(const tr_ota *ota, uint32_t index, const void *rec, uint32_t len) {
  uint32_t total = (len + ota->geom.write_align - 1u) / ota->geom.write_align * ota->geom.write_align;
  if (total > RECORD_BUF) return TR_SLOTS_ELAYOUT;
  memset(record_buf, 0xFF, total);
  memcpy(record_buf, rec, len);
  if (tr_hal_flash_erase_page(ota->record_page + index) != 0) return TR_SLOTS_EIO;
  if (tr_hal_flash_program(page_offset(ota, index), record_buf, total) != 0) return TR_SLOTS_EIO;
  return TR_SLOTS_OK;
}

/* The same fields, between the flash record of an image and its RAM copy (either way). */
#define COPY_IMAGE(out, in)                                                  \
  do {                                                                       \
    (out)->slot = (in)->slot;                                                \
    (out)->size = (in)->size;                                                \
    (out)->arena_bytes = (in)->arena_bytes;                                  \
    memcpy((out)->sha256, (in)->sha256, 32);                                 \
    snprintf((out)->model, sizeof (out)->model, "%s", (in)->model);         \
    snprintf((out)->version, sizeof (out)->version, "%s", (in)->version);   \
    memcpy((out)->transfer, (in)->transfer, 16);                             \
    (out)->seq = (in)->seq;                                                  \
  } while (0)

static void image_to_record(const tr_ota_image *in, image_record *out) {
  memset(out, 0, sizeof *out);
  COPY_IMAGE(out, in);
}

static void image_from_record(image_record *in, tr_ota_image *out) {
  in->model[sizeof in->model - 1] = '\0';
  in->version[sizeof in->version - 1] = '\0';
  COPY_IMAGE(out, in);
}

static void current_image(const tr_ota *ota, tr_ota_image *out) {
  memset(out, 0, sizeof *out);
  out->slot = ota->active_slot;
  out->size = ota->image_size;
  out->arena_bytes = ota->image_arena;
  memcpy(out->sha256, ota->image_sha256, 32);
  snprintf(out->model, sizeof out->model, "%s", ota->model);
  snprintf(out->version, sizeof out->version, "%s", ota->version);
  memcpy(out->transfer, ota->image_transfer, 16);
  out->seq = ota->image_seq;
}

/* The state as it is persisted now, as the start of the next record (generation + 1). */
static void record_now(const tr_ota *ota, state_record *r) {
  memset(r, 0, sizeof *r);
  r->magic = STATE_MAGIC;
  r->generation = ota->generation + 1u;
  r->last_seq = ota->persisted_seq;
  memcpy(r->key, ota->key, 32);
  r->key_rotated = (uint32_t)ota->key_rotated;
  r->has_image = (uint32_t)ota->has_image;
  r->has_previous = (uint32_t)ota->has_previous;
  r->boots = ota->boots;
  tr_ota_image img;
  current_image(ota, &img);
  image_to_record(&img, &r->image);
  image_to_record(&ota->previous, &r->previous);
}

/* The RAM copy of a record read or written. */
static void adopt(tr_ota *ota, state_record *r) {
  ota->generation = r->generation;
  ota->persisted_seq = r->last_seq;
  if (ota->last_seq < r->last_seq) ota->last_seq = r->last_seq;
  memcpy(ota->key, r->key_rotated ? r->key : ota->cfg.key, 32);
  ota->key_rotated = r->key_rotated != 0;
  ota->has_image = r->has_image != 0;
  ota->has_previous = r->has_previous != 0;
  ota->boots = r->boots;
  tr_ota_image img;
  image_from_record(&r->image, &img);
  ota->active_slot = ota->has_image ? img.slot : TR_NO_SLOT;
  ota->image_size = img.size;
  ota->image_arena = img.arena_bytes;
  memcpy(ota->image_sha256, img.sha256, 32);
  snprintf(ota->model, sizeof ota->model, "%s", img.model);
  snprintf(ota->version, sizeof ota->version, "%s", img.version);
  memcpy(ota->image_transfer, img.transfer, 16);
  ota->image_seq = img.seq;
  image_from_record(&r->previous, &ota->previous);
  if (!ota->has_previous) ota->previous.slot = TR_NO_SLOT;
}

/* Write the next state record (the page not holding the newest valid one): one durable, atomic
 * write; the in-RAM copy changes only once the write is complete. */
static int write_state(tr_ota *ota, state_record *r) {
  r->crc = tr_crc32(r, offsetof(state_record, crc));
  uint32_t index = ota->record_index == 0 ? 1u : 0u;
  int rc = program_record(ota, index, r, sizeof *r);
  if (rc != 0) return rc;
  ota->record_index = (int)index;
  adopt(ota, r);
  return TR_SLOTS_OK;
}

static int persist_seq(tr_ota *ota, uint64_t seq) {
  state_record r;
  record_now(ota, &r);
  r.last_seq = seq;
  return write_state(ota, &r);
}

/* The state naming the image of the transfer `m` in `slot` committed; the image it replaces
 * becomes the previous one (the rollback target). */
static int persist_commit(tr_ota *ota, int slot, const tr_ota_manifest *m) {
  state_record r;
  record_now(ota, &r);
  r.has_previous = r.has_image;
  r.previous = r.image;
  tr_ota_image img;
  memset(&img, 0, sizeof img);
  img.slot = slot;
  img.size = m->size;
  img.arena_bytes = m->arena_bytes;
  memcpy(img.sha256, m->sha256, 32);
  snprintf(img.model, sizeof img.model, "%s", m->model);
  snprintf(img.version, sizeof img.version, "%s", m->version);
  memcpy(img.transfer, m->transfer, 16);
  img.seq = m->seq;
  image_to_record(&img, &r.image);
  r.has_image = 1;
  return write_state(ota, &r);
}

static int write_transfer_record(tr_ota *ota, int slot, const uint8_t *message) {
  static transfer_record r;
  memset(&r, 0, sizeof r);
  r.magic = TRANSFER_MAGIC;
  r.slot = slot;
  memcpy(r.message, message, TR_OTA_MANIFEST_BYTES);
  r.crc = tr_crc32(&r, offsetof(transfer_record, crc));
  return program_record(ota, 2u, &r, sizeof r);
}

static int page_erased(const tr_ota *ota, uint32_t index, int *erased) {
  uint8_t buf[64];
  *erased = 1;
  for (uint32_t off = 0; off < ota->geom.page_size; off += sizeof buf) {
    uint32_t n = ota->geom.page_size - off < sizeof buf ? ota->geom.page_size - off : sizeof buf;
    if (tr_hal_flash_read(page_offset(ota, index) + off, buf, n) != 0) return TR_SLOTS_EIO;
    for (uint32_t i = 0; i < n; i++) *erased &= buf[i] == 0xFFu;
  }
  return TR_SLOTS_OK;
}

static int drop_transfer(tr_ota *ota) {
  ota->transfer_active = 0;
  ota->received = 0;
  ota->run_count = 0;
  ota->log_next = LOG_START;
  memset(ota->bitmap, 0, sizeof ota->bitmap);
  int erased;
  if (page_erased(ota, 2u, &erased) != 0) return TR_SLOTS_EIO;
  if (!erased && tr_hal_flash_erase_page(ota->record_page + 2u) != 0) return TR_SLOTS_EIO;
  return TR_SLOTS_OK;
}

/* ---- the transfer log ------------------------------------------------------------------------ */

static int held(const tr_ota *ota, uint32_t index) { return ota->bitmap[index >> 3] >> (index & 7u) & 1u; }

/* CRC-32 of the bytes of chunks [first, first + count) as the transfer's slot holds them. */
static int range_crc(const tr_ota *ota, uint32_t first, uint32_t count, uint32_t *out) {
  const tr_ota_manifest *m = &ota->transfer;
  uint32_t off = first * m->chunk_size, end = (first + count) * m->chunk_size;
  if (end > m->size) end = m->size;
  uint8_t buf[128];
  uint32_t crc = 0;
  while (off < end) {
    uint32_t n = end - off < sizeof buf ? end - off : (uint32_t)sizeof buf;
    if (tr_slot_read(&ota->geom, ota->transfer_slot, off, buf, n) != 0) return TR_SLOTS_EIO;
    crc = tr_crc32_update(crc, buf, n);
    off += n;
  }
  *out = crc;
  return TR_SLOTS_OK;
}

static int log_usable(const tr_ota *ota) {
  return ota->geom.write_align <= LOG_ENTRY && LOG_ENTRY % ota->geom.write_align == 0u;
}

/* Append one line; a full log (or a flash whose write unit is larger than a line) logs nothing:
 * those chunks are fetched again after a reset. */
static int log_range(tr_ota *ota, uint32_t first, uint32_t count) {
  if (!log_usable(ota) || ota->log_next + LOG_ENTRY > ota->geom.page_size) return TR_SLOTS_OK;
  log_entry e;
  e.first = first;
  e.count = count;
  if (range_crc(ota, first, count, &e.data_crc) != 0) return TR_SLOTS_EIO;
  e.crc = tr_crc32(&e, offsetof(log_entry, crc));
  if (tr_hal_flash_program(page_offset(ota, 2u) + ota->log_next, &e, sizeof e) != 0) {
    return TR_SLOTS_EIO;
  }
  ota->log_next += LOG_ENTRY;
  return TR_SLOTS_OK;
}

int tr_ota_log_flush(tr_ota *ota) {
  if (!ota->transfer_active || ota->run_count == 0) return TR_SLOTS_OK;
  uint32_t first = ota->run_first, count = ota->run_count;
  ota->run_count = 0;
  return log_range(ota, first, count);
}

/* The transfer record was (re)written, which erased the log: log every chunk held again. */
static int relog(tr_ota *ota) {
  ota->run_count = 0;
  ota->log_next = LOG_START;
  for (uint32_t i = 0; i < ota->transfer.chunks;) {
    if (!held(ota, i)) {
      i++;
      continue;
    }
    uint32_t j = i;
    while (j < ota->transfer.chunks && held(ota, j)) j++;
    if (log_range(ota, i, j - i) != 0) return TR_SLOTS_EIO;
    i = j;
  }
  return TR_SLOTS_OK;
}

/* Write chunk `index`. Bytes already equal to it (written before a reset, after the last log
 * line): nothing to program. Erased: programmed. Otherwise (torn by a reset): the pages the chunk
 * touches are erased first (the run logged before), and the chunks held on them are fetched again. */
static int write_chunk(tr_ota *ota, uint32_t index, const uint8_t *data, uint32_t n) {
  const tr_ota_manifest *m = &ota->transfer;
  uint32_t off = index * m->chunk_size;
  int equal = 1, erased = 1;
  uint8_t buf[128];
  for (uint32_t k = 0; k < n;) {
    uint32_t len = n - k < sizeof buf ? n - k : (uint32_t)sizeof buf;
    if (tr_slot_read(&ota->geom, ota->transfer_slot, off + k, buf, len) != 0) return TR_SLOTS_EIO;
    equal &= memcmp(buf, data + k, len) == 0;
    for (uint32_t i = 0; i < len; i++) erased &= buf[i] == 0xFFu;
    k += len;
  }
  if (equal) return TR_SLOTS_OK;
  if (!erased) {
    if (tr_ota_log_flush(ota) != 0) return TR_SLOTS_EIO;
    uint32_t ps = ota->geom.page_size;
    uint32_t base = (uint32_t)ota->transfer_slot * ota->geom.pages_per_slot;
    for (uint32_t p = off / ps; p <= (off + n - 1u) / ps; p++) {
      if (tr_hal_flash_erase_page(base + p) != 0) return TR_SLOTS_EIO;
      for (uint32_t c = p * ps / m->chunk_size; c < m->chunks && c * m->chunk_size < (p + 1u) * ps;
           c++) {
        if (!held(ota, c)) continue;
        ota->bitmap[c >> 3] &= (uint8_t)~(1u << (c & 7u));
        ota->received--;
      }
    }
  }
  return tr_slot_write(&ota->geom, ota->transfer_slot, off, data, n);
}

/* At start-up, for a kept transfer: the chunks of the log lines whose bytes still match their
 * CRC are held (a chunk written after the last line is found by write_chunk when it comes again). */
static int recover_chunks(tr_ota *ota) {
  const tr_ota_manifest *m = &ota->transfer;
  ota->received = 0;
  ota->run_count = 0;
  memset(ota->bitmap, 0, sizeof ota->bitmap);
  ota->log_next = LOG_START;
  for (uint32_t off = LOG_START; log_usable(ota) && off + LOG_ENTRY <= ota->geom.page_size;
       off += LOG_ENTRY) {
    log_entry e;
    if (tr_hal_flash_read(page_offset(ota, 2u) + off, &e, sizeof e) != 0) return TR_SLOTS_EIO;
    if (e.first == 0xFFFFFFFFu && e.count == 0xFFFFFFFFu && e.data_crc == 0xFFFFFFFFu &&
        e.crc == 0xFFFFFFFFu) {
      break;
    }
    ota->log_next = off + LOG_ENTRY;
    uint32_t crc;
    if (e.crc != tr_crc32(&e, offsetof(log_entry, crc)) || e.count == 0u ||
        e.first >= m->chunks || e.count > m->chunks - e.first) {
      continue;
    }
    if (range_crc(ota, e.first, e.count, &crc) != 0) return TR_SLOTS_EIO;
    if (crc != e.data_crc) continue;
    for (uint32_t i = e.first; i < e.first + e.count; i++) {
      ota->bitmap[i >> 3] |= (uint8_t)(1u << (i & 7u));
    }
  }
  for (uint32_t i = 0; i < m->chunks; i++) ota->received += (uint32_t)held(ota, i);
  return TR_SLOTS_OK;
}

/* ---- checks ----------------------------------------------------------------------------------- */

static int signature_ok(const uint8_t *msg, size_t body, const uint8_t key[32]) {
  return crypto_ed25519_check(msg + body, key, msg, body) == 0;
}

/* Steps 1-2 and the header of step 3, shared by manifests and commands. */
static tr_ota_code check_signed(tr_ota *ota, const uint8_t *msg, size_t len, uint8_t kind,
                                char device[129], uint64_t *seq, tr_ota_verdict *v) {
  const char *what = kind == KIND_MANIFEST ? "manifest" : "command";
  size_t want = kind == KIND_MANIFEST ? TR_OTA_MANIFEST_BYTES : TR_OTA_COMMAND_BYTES;
  size_t body = want - 64u;
  if (msg == NULL || len != want) {
    return verdict(v, TR_OTA_E_LENGTH, kind == KIND_MANIFEST ? "manifest" : "command",
                   "%s is not a signed version 2 %s: %lu bytes, not %lu", what, what,
                   (unsigned long)(msg == NULL ? 0u : len), (unsigned long)want);
  }
  const char *stage = kind == KIND_MANIFEST ? "manifest" : "command";
  if (memcmp(msg, "TRS2", 4) != 0 || msg[4] != kind) {
    return verdict(v, TR_OTA_E_MAGIC, stage, "%s is not a signed version 2 %s (magic or kind)",
                   what, what);
  }
  int ok = signature_ok(msg, body, ota->key);
  if (!ok && kind == KIND_COMMAND && msg[5] == TR_OP_ROTATE_KEY && ota->cfg.recovery_key) {
    ok = signature_ok(msg, body, ota->cfg.recovery_key);
  }
  if (!ok) {
    return verdict(v, TR_OTA_E_SIGNATURE, stage, "%s signature does not verify with the device's key",
                   what);
  }
  if (msg[7] != 0) return verdict(v, TR_OTA_E_FIELD, stage, "reserved header byte is not zero");
  *seq = be64(msg + 8);
  if (*seq < 1u || *seq > MAX_SEQ) {
    return verdict(v, TR_OTA_E_FIELD, stage, "sequence number out of range");
  }
  uint8_t op = msg[5];
  if ((kind == KIND_MANIFEST && op != 0) ||
      (kind == KIND_COMMAND && (op < TR_OP_SYNC || op > TR_OP_ROTATE_KEY))) {
    return verdict(v, TR_OTA_E_FIELD, stage, "unknown command op %u", op);
  }
  if (!text_field(msg + 16, 128, 1, device)) {
    return verdict(v, TR_OTA_E_FIELD, stage, "field 'device' is empty or holds NUL bytes");
  }
  return TR_OTA_ACCEPTED;
}

/* Steps 4-5. */
static tr_ota_code check_binding(const tr_ota *ota, const char *device, uint64_t seq,
                                 const char *stage, tr_ota_verdict *v) {
  if (strcmp(device, ota->cfg.device_id) != 0) {
    return verdict(v, TR_OTA_E_DEVICE, stage, "the message is for another device (%s)", device);
  }
  if (seq <= ota->last_seq) {
    char a[24], b[24];
    v->last_seq = ota->last_seq;
    decimal(seq, a);
    decimal(ota->last_seq, b);
    return verdict(v, TR_OTA_E_REPLAY, stage,
                   "sequence number %s is not greater than the last accepted %s (a replay)", a, b);
  }
  return TR_OTA_ACCEPTED;
}

static tr_ota_code check_fit(const tr_ota *ota, const tr_ota_manifest *m, tr_ota_verdict *v) {
  char a[32], b[32], c[32], d[32], e[32];
  if (strcmp(m->runtime, ota->cfg.runtime) != 0) {
    return verdict(v, TR_OTA_E_RUNTIME, "fit", "built for runtime %s, the device runs %s",
                   m->runtime, ota->cfg.runtime);
  }
  if (m->size > ota->geom.image_max) {
    thousands(m->size, a);
    thousands(ota->geom.image_max, b);
    return verdict(v, TR_OTA_E_SLOT, "fit", "model of %s B does not fit the flash slot of %s B", a,
                   b);
  }
  int64_t budget = (int64_t)ota->cfg.ram_bytes - ota->cfg.ram_reserved -
                   ota->cfg.runtime_ram_overhead;
  if ((int64_t)m->arena_bytes > budget) {
    thousands(m->arena_bytes, a);
    thousands(budget, b);
    thousands(ota->cfg.ram_bytes, c);
    thousands(ota->cfg.ram_reserved, d);
    thousands(ota->cfg.runtime_ram_overhead, e);
    return verdict(v, TR_OTA_E_ARENA, "fit",
                   "arena of %s B does not fit the %s B of RAM left (%s \xe2\x88\x92 %s reserved "
                   "\xe2\x88\x92 %s runtime)",
                   a, b, c, d, e);
  }
  if (m->chunks > TR_OTA_MAX_CHUNKS || m->chunk_size % ota->geom.unit != 0) {
    return verdict(v, TR_OTA_E_FIT, "fit",
                   "chunking of %u chunks of %u B: this device takes at most %u chunks, each a "
                   "multiple of %u B",
                   (unsigned)m->chunks, (unsigned)m->chunk_size, (unsigned)TR_OTA_MAX_CHUNKS,
                   (unsigned)ota->geom.unit);
  }
  const char *nb, *ne, *ob, *oe;
  if (ota->has_image && strcmp(ota->model, m->model) == 0 && !(m->flags & FLAG_ALLOW_DOWNGRADE) &&
      version_span(m->version, &nb, &ne) && version_span(ota->version, &ob, &oe) &&
      version_cmp(nb, ne, ob, oe) < 0) {
    return verdict(v, TR_OTA_E_DOWNGRADE, "manifest",
                   "version %s is older than the running %s (a downgrade needs force)", m->version,
                   ota->version);
  }
  return TR_OTA_ACCEPTED;
}

tr_ota_code tr_ota_check_manifest(tr_ota *ota, const uint8_t *msg, size_t len,
                                  tr_ota_manifest *m, tr_ota_verdict *v) {
  memset(m, 0, sizeof *m);
  v->last_seq = 0;
  tr_ota_code rc = check_signed(ota, msg, len, KIND_MANIFEST, m->device, &m->seq, v);
  if (rc != TR_OTA_ACCEPTED) return rc;
  m->flags = msg[6];
  if (m->flags & ~FLAG_ALLOW_DOWNGRADE) {
    return verdict(v, TR_OTA_E_FIELD, "manifest", "manifest flags hold unknown bits");
  }
  const uint8_t *t = msg + HEADER_BYTES;
  memcpy(m->transfer, t, 16);
  memcpy(m->sha256, t + 16, 32);
  m->size = be32(t + 48);
  m->arena_bytes = be32(t + 52);
  m->chunk_size = be32(t + 56);
  m->chunks = be32(t + 60);
  m->window = be32(t + 64);
  if (be32(t + 68) != 0) {
    return verdict(v, TR_OTA_E_FIELD, "manifest", "manifest reserved bytes are not zero");
  }
  if (m->chunk_size < 1u || m->chunk_size > ota->cfg.chunk_buffer || m->size == 0) {
    return verdict(v, TR_OTA_E_FIELD, "manifest", "manifest size or chunk size out of bounds");
  }
  if (m->chunks != m->size / m->chunk_size + (m->size % m->chunk_size != 0)) {
    return verdict(v, TR_OTA_E_FIELD, "manifest",
                   "manifest chunk count does not match size and chunk size");
  }
  if (m->window < 1u || m->window > MAX_WINDOW) {
    return verdict(v, TR_OTA_E_FIELD, "manifest", "manifest window out of bounds");
  }
  static const struct { const char *name; uint32_t off, n; int required; } fields[] = {
      {"model", 72, 64, 1},    {"version", 136, 32, 1},          {"runtime", 168, 32, 1},
      {"runtime_version", 200, 32, 0}, {"transfer", 0, 16, 1},
  };
  char transfer_text[17];
  char *outs[] = {m->model, m->version, m->runtime, m->runtime_version, transfer_text};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    if (!text_field(t + fields[i].off, fields[i].n, fields[i].required, outs[i])) {
      return verdict(v, TR_OTA_E_FIELD, "manifest", "field '%s' is empty or holds NUL bytes",
                     fields[i].name);
    }
  }
  rc = check_binding(ota, m->device, m->seq, "manifest", v);
  if (rc == TR_OTA_E_REPLAY && ota->transfer_active &&
      memcmp(msg, ota->transfer_message, TR_OTA_MANIFEST_BYTES) == 0) {
    verdict_ok(v, TR_OTA_RESENT);
    return TR_OTA_RESENT;
  }
  if (rc != TR_OTA_ACCEPTED) return rc;
  rc = check_fit(ota, m, v);
  if (rc != TR_OTA_ACCEPTED) return rc;
  verdict_ok(v, TR_OTA_ACCEPTED);
  return TR_OTA_ACCEPTED;
}

tr_ota_code tr_ota_check_command(tr_ota *ota, const uint8_t *msg, size_t len, tr_ota_command *c,
                                 tr_ota_verdict *v) {
  memset(c, 0, sizeof *c);
  v->last_seq = 0;
  tr_ota_code rc = check_signed(ota, msg, len, KIND_COMMAND, c->device, &c->seq, v);
  if (rc != TR_OTA_ACCEPTED) return rc;
  c->op = msg[5];
  if (msg[6] != 0) return verdict(v, TR_OTA_E_FIELD, "command", "command flags are not zero");
  char transfer_text[17];
  if (!text_field(msg + HEADER_BYTES, 16, 0, transfer_text)) {
    return verdict(v, TR_OTA_E_FIELD, "command", "field 'transfer' is empty or holds NUL bytes");
  }
  memcpy(c->transfer, msg + HEADER_BYTES, 16);
  memcpy(c->argument, msg + HEADER_BYTES + 16, 32);
  rc = check_binding(ota, c->device, c->seq, "command", v);
  if (rc != TR_OTA_ACCEPTED) return rc;
  verdict_ok(v, TR_OTA_ACCEPTED);
  return TR_OTA_ACCEPTED;
}

/* ---- start-up --------------------------------------------------------------------------------- */

int tr_ota_init(tr_ota *ota, const tr_ota_config *cfg) {
  memset(ota, 0, sizeof *ota);
  ota->cfg = *cfg;
  int rc = tr_slots_geometry_reserve(&ota->geom, TR_OTA_RESERVED_PAGES);
  if (rc != 0) return rc;
  if (ota->geom.page_size < RECORD_BUF || ota->geom.write_align > RECORD_BUF) {
    return TR_SLOTS_ELAYOUT;
  }
  tr_flash_layout fl;
  if (tr_hal_flash_layout(&fl) != 0) return TR_SLOTS_EIO;
  ota->record_page = fl.page_count - TR_OTA_RESERVED_PAGES;
  memcpy(ota->key, cfg->key, 32);
  ota->record_index = -1;
  ota->active_slot = TR_NO_SLOT;
  ota->previous.slot = TR_NO_SLOT;
  static state_record best, r;
  for (uint32_t i = 0; i < 2u; i++) {
    if (tr_hal_flash_read(page_offset(ota, i), &r, sizeof r) != 0) return TR_SLOTS_EIO;
    if (r.magic != STATE_MAGIC || r.crc != tr_crc32(&r, offsetof(state_record, crc))) continue;
    if (ota->record_index < 0 || r.generation > best.generation) {
      best = r;
      ota->record_index = (int)i;
    }
  }
  if (ota->record_index >= 0) adopt(ota, &best);
  ota->last_seq = ota->persisted_seq;
  /* the unfinished transfer: kept only when accepted (seq persisted) and still signed by the key */
  static transfer_record t;
  if (tr_hal_flash_read(page_offset(ota, 2u), &t, sizeof t) != 0) return TR_SLOTS_EIO;
  int keep = t.magic == TRANSFER_MAGIC && t.crc == tr_crc32(&t, offsetof(transfer_record, crc)) &&
             (t.slot == 0 || t.slot == 1) && t.slot != (ota->has_image ? ota->active_slot : -1);
  if (keep) {
    tr_ota_verdict v;
    uint64_t saved = ota->last_seq;
    ota->last_seq = 0; /* the binding is checked against the persisted seq below */
    keep = tr_ota_check_manifest(ota, t.message, TR_OTA_MANIFEST_BYTES, &ota->transfer, &v) ==
               TR_OTA_ACCEPTED &&
           ota->transfer.seq <= saved;
    ota->last_seq = saved;
  }
  if (!keep) return drop_transfer(ota);
  ota->transfer_active = 1;
  ota->transfer_slot = t.slot;
  memcpy(ota->transfer_message, t.message, TR_OTA_MANIFEST_BYTES);
  return recover_chunks(ota);
}

/* ---- messages --------------------------------------------------------------------------------- */

static int same_transfer(const tr_ota_manifest *a, const tr_ota_manifest *b) {
  return memcmp(a->transfer, b->transfer, 16) == 0 && memcmp(a->sha256, b->sha256, 32) == 0 &&
         a->size == b->size && a->chunk_size == b->chunk_size && strcmp(a->device, b->device) == 0;
}

tr_ota_code tr_ota_on_manifest(tr_ota *ota, const uint8_t *msg, size_t len, tr_ota_verdict *v) {
  static tr_ota_manifest m;
  tr_ota_code rc = tr_ota_check_manifest(ota, msg, len, &m, v);
  if (rc != TR_OTA_ACCEPTED) {
    if (rc != TR_OTA_RESENT) ota->rejected_messages++;
    return rc;
  }
  int resume = ota->transfer_active && same_transfer(&ota->transfer, &m);
  int slot = resume ? ota->transfer_slot : (ota->has_image && ota->active_slot == 0 ? 1 : 0);
  if (!resume) {
    ota->transfer_active = 0;
    ota->received = 0;
    memset(ota->bitmap, 0, sizeof ota->bitmap);
    if (tr_slot_erase(&ota->geom, slot) != 0) {
      return verdict(v, TR_OTA_E_FLASH, "manifest", "flash erase failed");
    }
  }
  /* (1) the unfinished-transfer record, (2) the state record with the seq; then acknowledge */
  state_record r;
  record_now(ota, &r);
  r.last_seq = m.seq;
  r.has_previous = 0; /* the spare slot held it: from the erase on there is nothing to return to */
  if (write_transfer_record(ota, slot, msg) != 0 || write_state(ota, &r) != 0) {
    return verdict(v, TR_OTA_E_FLASH, "manifest", "flash write failed");
  }
  ota->transfer = m;
  ota->transfer_slot = slot;
  memcpy(ota->transfer_message, msg, TR_OTA_MANIFEST_BYTES);
  ota->transfer_active = 1;
  /* the record's write erased the log: a resumed transfer logs the chunks it holds again */
  if (relog(ota) != 0) return verdict(v, TR_OTA_E_FLASH, "manifest", "flash write failed");
  verdict_ok(v, TR_OTA_ACCEPTED);
  return TR_OTA_ACCEPTED;
}

/* A valid Ed25519 public key: not all zero, and a point of the curve. Monocypher has no point
 * check of its own; its verification equation decodes the key first and fails when it is not a
 * point. With R the neutral point, S = 0 and h = 0 the equation holds for every point A. */
static int valid_public_key(const uint8_t key[32]) {
  static const uint8_t zero[32];
  if (memcmp(key, zero, 32) == 0) return 0;
  uint8_t signature[64] = {1}; /* R = (0, 1) encoded, S = 0 */
  uint8_t h[32] = {0};
  return crypto_eddsa_check_equation(signature, key, h) == 0;
}

static void hex16(const uint8_t *b, char out[17]) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < 8; i++) {
    out[2 * i] = digits[b[i] >> 4];
    out[2 * i + 1] = digits[b[i] & 15u];
  }
  out[16] = '\0';
}

/* rollback (PROTOCOL.md, Rollback): the recorded previous image, checked, self-tested, then one
 * state write names it active and the image it leaves the previous one. A refusal persists the
 * seq only. */
static tr_ota_code rollback(tr_ota *ota, const tr_ota_command *c, tr_ota_verdict *v) {
  static const uint8_t zero[32];
  const tr_ota_image *prev = &ota->previous;
  char want[17], have[17];
  if (!ota->has_previous) {
    if (persist_seq(ota, c->seq) != 0) return verdict(v, TR_OTA_E_FLASH, "command", "flash write failed");
    return verdict(v, TR_OTA_E_REFUSED, "rollback",
                   "no previous image (none committed before, or overwritten by a transfer)");
  }
  if (memcmp(c->argument, zero, 32) != 0 && memcmp(c->argument, prev->sha256, 32) != 0) {
    if (persist_seq(ota, c->seq) != 0) return verdict(v, TR_OTA_E_FLASH, "command", "flash write failed");
    hex16(prev->sha256, have);
    hex16(c->argument, want);
    return verdict(v, TR_OTA_E_REFUSED, "rollback", "the previous image is %s\xe2\x80\xa6, not %s\xe2\x80\xa6",
                   have, want);
  }
  /* an unfinished transfer would write the slot that holds the previous image: dropped (a kept
   * one cannot coexist with a previous image, the manifest's acceptance forgot it) */
  if (ota->transfer_active && drop_transfer(ota) != 0) {
    return verdict(v, TR_OTA_E_FLASH, "command", "flash erase failed");
  }
  tr_slot_info info;
  if (tr_slot_info_read(&ota->geom, prev->slot, &info) != 0 || info.state == TR_SLOT_EMPTY ||
      info.state == TR_SLOT_REJECTED || info.size != prev->size ||
      memcmp(info.sha256, prev->sha256, 32) != 0) {
    if (persist_seq(ota, c->seq) != 0) return verdict(v, TR_OTA_E_FLASH, "command", "flash write failed");
    return verdict(v, TR_OTA_E_REFUSED, "rollback",
                   "verify: the previous image no longer matches its digest");
  }
  if (ota->cfg.self_test && ota->cfg.self_test(prev->slot, prev->size, ota->cfg.user) != 0) {
    if (persist_seq(ota, c->seq) != 0) return verdict(v, TR_OTA_E_FLASH, "command", "flash write failed");
    return verdict(v, TR_OTA_E_SELF_TEST, "rollback", "self-test: the previous image failed its self-test");
  }
  state_record r;
  record_now(ota, &r);
  r.last_seq = c->seq;
  image_record left = r.image;
  r.image = r.previous;
  r.previous = left;
  r.has_image = 1;
  r.has_previous = 1;
  if (write_state(ota, &r) != 0) return verdict(v, TR_OTA_E_FLASH, "command", "flash write failed");
  verdict_ok(v, TR_OTA_ACCEPTED);
  return TR_OTA_ACCEPTED;
}

tr_ota_code tr_ota_on_command(tr_ota *ota, const uint8_t *msg, size_t len, tr_ota_command *c,
                              tr_ota_verdict *v) {
  tr_ota_code rc = tr_ota_check_command(ota, msg, len, c, v);
  if (rc != TR_OTA_ACCEPTED) {
    ota->rejected_messages++;
    return rc;
  }
  switch (c->op) {
    case TR_OP_ABORT:
      if (ota->transfer_active && memcmp(c->transfer, ota->transfer.transfer, 16) == 0) {
        /* the record goes first: a cut before the seq lets this abort be replayed once, harmlessly */
        if (drop_transfer(ota) != 0) return verdict(v, TR_OTA_E_FLASH, "command", "flash erase failed");
      }
      if (persist_seq(ota, c->seq) != 0) return verdict(v, TR_OTA_E_FLASH, "command", "flash write failed");
      break;
    case TR_OP_ROTATE_KEY: {
      if (!valid_public_key(c->argument)) {
        ota->rejected_messages++;
        if (persist_seq(ota, c->seq) != 0) return verdict(v, TR_OTA_E_FLASH, "command", "flash write failed");
        return verdict(v, TR_OTA_E_REFUSED, "command", "the new key is not an Ed25519 key");
      }
      /* the new key and the seq in one state write: from here on the old key is revoked */
      state_record r;
      record_now(ota, &r);
      r.last_seq = c->seq;
      memcpy(r.key, c->argument, 32);
      r.key_rotated = 1;
      if (write_state(ota, &r) != 0) return verdict(v, TR_OTA_E_FLASH, "command", "flash write failed");
      break;
    }
    case TR_OP_ROLLBACK:
      return rollback(ota, c, v);
    default: /* sync, status, infer: not worth a flash write */
      ota->last_seq = c->seq;
      break;
  }
  verdict_ok(v, TR_OTA_ACCEPTED);
  return TR_OTA_ACCEPTED;
}

tr_ota_code tr_ota_on_chunk(tr_ota *ota, const uint8_t *frame, size_t len, tr_ota_verdict *v) {
  if (!ota->transfer_active) {
    verdict_ok(v, TR_OTA_CHUNK_OTHER);
    return TR_OTA_CHUNK_OTHER;
  }
  if (frame == NULL || len < TR_OTA_CHUNK_HEADER) {
    ota->rejected_messages++;
    return verdict(v, TR_OTA_E_CHUNK, "transfer", "chunk frame shorter than its header");
  }
  if (memcmp(frame, "TRC1", 4) != 0) {
    ota->rejected_messages++;
    return verdict(v, TR_OTA_E_CHUNK, "transfer", "not a chunk frame");
  }
  uint32_t index = be32(frame + 20), crc = be32(frame + 24);
  const uint8_t *data = frame + TR_OTA_CHUNK_HEADER;
  size_t n = len - TR_OTA_CHUNK_HEADER;
  if (tr_crc32(data, n) != crc) {
    ota->rejected_messages++;
    return verdict(v, TR_OTA_E_CHUNK, "transfer", "chunk %u: CRC mismatch", (unsigned)index);
  }
  const tr_ota_manifest *m = &ota->transfer;
  if (memcmp(frame + 4, m->transfer, 16) != 0) {
    verdict_ok(v, TR_OTA_CHUNK_OTHER);
    return TR_OTA_CHUNK_OTHER;
  }
  uint32_t expect = index + 1u == m->chunks ? m->size - index * m->chunk_size : m->chunk_size;
  if (index >= m->chunks || n != expect) {
    ota->rejected_messages++;
    return verdict(v, TR_OTA_E_CHUNK, "transfer", "chunk %u: index or length out of bounds",
                   (unsigned)index);
  }
  if (ota->bitmap[index >> 3] >> (index & 7u) & 1u) {
    verdict_ok(v, TR_OTA_CHUNK_HELD);
    return TR_OTA_CHUNK_HELD;
  }
  if (write_chunk(ota, index, data, (uint32_t)n) != 0) {
    return verdict(v, TR_OTA_E_FLASH, "transfer", "flash write failed");
  }
  ota->bitmap[index >> 3] |= (uint8_t)(1u << (index & 7u));
  ota->received++;
  if (ota->run_count != 0u && index == ota->run_first + ota->run_count) {
    ota->run_count++;
  } else {
    if (tr_ota_log_flush(ota) != 0) return verdict(v, TR_OTA_E_FLASH, "transfer", "flash write failed");
    ota->run_first = index;
    ota->run_count = 1;
  }
  verdict_ok(v, TR_OTA_CHUNK_OK);
  return TR_OTA_CHUNK_OK;
}

int tr_ota_complete(const tr_ota *ota) {
  return ota->transfer_active && ota->received == ota->transfer.chunks;
}

size_t tr_ota_bitmap(const tr_ota *ota, const uint8_t **bits) {
  *bits = ota->bitmap;
  return ota->transfer_active ? (ota->transfer.chunks + 7u) / 8u : 0u;
}

tr_ota_code tr_ota_commit(tr_ota *ota, tr_ota_verdict *v) {
  if (!tr_ota_complete(ota)) return verdict(v, TR_OTA_E_REFUSED, "transfer", "chunks missing");
  const tr_ota_manifest *m = &ota->transfer;
  int slot = ota->transfer_slot;
  /* verify before sealing: a sealed slot counts as an image for the boot selection */
  tr_sha256_ctx ctx;
  uint8_t buf[256], digest[32];
  tr_sha256_init(&ctx);
  for (uint32_t off = 0; off < m->size;) {
    uint32_t n = m->size - off < sizeof buf ? m->size - off : (uint32_t)sizeof buf;
    if (tr_slot_read(&ota->geom, slot, off, buf, n) != 0) {
      return verdict(v, TR_OTA_E_FLASH, "verify", "flash read failed");
    }
    tr_sha256_update(&ctx, buf, n);
    off += n;
  }
  tr_sha256_final(&ctx, digest);
  if (memcmp(digest, m->sha256, 32) != 0 ||
      !signature_ok(ota->transfer_message, TR_OTA_MANIFEST_BODY, ota->key)) {
    const char *why = memcmp(digest, m->sha256, 32) != 0
                          ? "image SHA-256 does not match the manifest"
                          : "manifest signature does not verify with the device's key";
    drop_transfer(ota);
    return verdict(v, TR_OTA_E_VERIFY, "verify", "%s", why);
  }
  uint32_t slot_seq;
  tr_boot_choice choice;
  if (tr_slots_next_seq(&ota->geom, &slot_seq) != 0 ||
      tr_slot_clear_trailer(&ota->geom, slot) != 0 || /* a seal torn by a reset */
      tr_slot_finish(&ota->geom, slot, m->size, slot_seq) != 0 ||
      tr_boot_select(&ota->geom, &choice) != 0) {
    return verdict(v, TR_OTA_E_FLASH, "commit", "flash write failed");
  }
  if (choice.slot != slot || !choice.trial) {
    /* what the boot selection saw, for the verdict: both slots' states and sequences */
    tr_slot_info seen[TR_SLOT_COUNT];
    for (int s = 0; s < TR_SLOT_COUNT; s++) {
      if (tr_slot_info_read(&ota->geom, s, &seen[s]) != 0) seen[s].state = TR_SLOT_EMPTY;
    }
    drop_transfer(ota);
    return verdict(v, TR_OTA_E_VERIFY, "verify",
                   "the sealed image does not boot on trial (slot %d sealed with seq %lu; "
                   "boot selection: slot %d; slot 0 %s seq %lu, slot 1 %s seq %lu)",
                   slot, (unsigned long)slot_seq, choice.slot, tr_slot_state_name(seen[0].state),
                   (unsigned long)seen[0].seq, tr_slot_state_name(seen[1].state),
                   (unsigned long)seen[1].seq);
  }
  if (ota->cfg.self_test && ota->cfg.self_test(slot, m->size, ota->cfg.user) != 0) {
    tr_boot_select(&ota->geom, &choice); /* rejects the trial, returns to the previous slot */
    drop_transfer(ota);
    return verdict(v, TR_OTA_E_SELF_TEST, "self-test", "the image failed its self-test");
  }
  if (tr_slot_confirm(&ota->geom, slot) != 0 ||
      persist_commit(ota, slot, m) != 0 ||
      drop_transfer(ota) != 0) {
    return verdict(v, TR_OTA_E_FLASH, "commit", "flash write failed");
  }
  verdict_ok(v, TR_OTA_ACCEPTED);
  return TR_OTA_ACCEPTED;
}

int tr_ota_drop_transfer(tr_ota *ota) { return drop_transfer(ota); }

int tr_ota_committed_transfer(const tr_ota *ota, const uint8_t transfer[16]) {
  static const uint8_t zero[16];
  return ota->has_image && memcmp(ota->image_transfer, zero, 16) != 0 &&
         memcmp(ota->image_transfer, transfer, 16) == 0;
}

tr_ota_sync_answer tr_ota_sync(const tr_ota *ota, const uint8_t transfer[16]) {
  if (ota->transfer_active && memcmp(transfer, ota->transfer.transfer, 16) == 0) {
    return TR_OTA_SYNC_BITMAP;
  }
  return tr_ota_committed_transfer(ota, transfer) ? TR_OTA_SYNC_COMMITTED : TR_OTA_SYNC_UNKNOWN;
}

/* The slot that boots is not the one the state names: a commit was cut short. Finish it when the
 * slot holds the unfinished transfer's image. */
static int finish_cut_commit(tr_ota *ota, tr_boot_choice *choice, tr_ota_after_boot *after) {
  tr_slot_info info;
  int rc = tr_slot_info_read(&ota->geom, choice->slot, &info);
  if (rc != 0) return rc;
  const tr_ota_manifest *m = &ota->transfer;
  int ours = ota->transfer_active && ota->transfer_slot == choice->slot &&
             info.size == m->size && memcmp(info.sha256, m->sha256, 32) == 0;
  if (!ours) return TR_SLOTS_OK; /* an image the state does not know (e.g. provisioned) */
  if (choice->trial) {
    if (ota->cfg.self_test && ota->cfg.self_test(choice->slot, m->size, ota->cfg.user) != 0) {
      after->outcome = TR_OTA_BOOT_SELF_TEST;
      rc = drop_transfer(ota);
      if (rc != 0) return rc;
      return tr_boot_select(&ota->geom, choice); /* rejected: the previous image boots */
    }
    rc = tr_slot_confirm(&ota->geom, choice->slot);
    if (rc != 0) return rc;
    choice->trial = 0;
  }
  rc = persist_commit(ota, choice->slot, m);
  if (rc != 0) return rc;
  after->outcome = TR_OTA_BOOT_COMMITTED;
  return drop_transfer(ota);
}

int tr_ota_boot(tr_ota *ota, tr_boot_choice *choice, tr_ota_after_boot *after) {
  static tr_ota_after_boot ignored;
  if (after == NULL) after = &ignored;
  after->outcome = TR_OTA_BOOT_QUIET;
  if (ota->transfer_active) after->transfer = ota->transfer;
  int rc = tr_boot_select(&ota->geom, choice);
  if (rc != 0) return rc;
  if (choice->slot != TR_NO_SLOT && !(ota->has_image && choice->slot == ota->active_slot)) {
    rc = finish_cut_commit(ota, choice, after);
    if (rc != 0) return rc;
  }
  if (!ota->transfer_active) return TR_SLOTS_OK;
  /* still unfinished: its slot sealed means its image was started on trial before the reset and
   * the boot selection has just rejected it; otherwise it resumes, or commits when complete */
  tr_slot_info info;
  rc = tr_slot_info_read(&ota->geom, ota->transfer_slot, &info);
  if (rc != 0) return rc;
  if (info.state != TR_SLOT_EMPTY && memcmp(info.sha256, ota->transfer.sha256, 32) == 0) {
    after->outcome = TR_OTA_BOOT_REVERTED;
    return drop_transfer(ota);
  }
  after->outcome = tr_ota_complete(ota) ? TR_OTA_BOOT_COMPLETE : TR_OTA_BOOT_RESUME;
  return TR_SLOTS_OK;
}

int tr_ota_count_boot(tr_ota *ota) {
  state_record r;
  record_now(ota, &r);
  r.boots = ota->boots + 1u;
  return write_state(ota, &r);
}
