/* Serial framing: COBS frames with a CRC-32 (see frame.h). */
#include "frame.h"

#include <string.h>

#include "crc32.h"

void tr_frame_decoder_init(tr_frame_decoder *d) { memset(d, 0, sizeof *d); }

static void frame_reset(tr_frame_decoder *d) {
  d->len = 0;
  d->block_left = 0;
  d->code = 0;
  d->broken = 0;
}

static void append(tr_frame_decoder *d, uint8_t byte) {
  if (d->len >= sizeof d->buf) {
    d->broken = 1;
    return;
  }
  d->buf[d->len++] = byte;
}

int tr_frame_feed(tr_frame_decoder *d, uint8_t byte, tr_frame *out) {
  if (byte != 0) {
    if (d->broken) return 0; /* skip to the delimiter */
    if (d->block_left == 0) {
      /* a code byte: the block before it ended in a zero unless it was a full one (0xFF) */
      if (d->code != 0 && d->code != 0xFF) append(d, 0);
      d->code = byte;
      d->block_left = byte - 1u;
    } else {
      append(d, byte);
      d->block_left--;
    }
    return 0;
  }
  /* the delimiter: an empty frame is idle line (a sender may start with a delimiter) */
  if (d->code == 0 && !d->broken) return 0;
  int good = 0;
  if (d->broken || d->block_left != 0 || d->len < 5u) {
    d->dropped_format++;
  } else {
    size_t body = d->len - 4u;
    const uint8_t *c = d->buf + body;
    uint32_t sent = (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
    if (sent != tr_crc32(d->buf, body)) {
      d->dropped_crc++;
    } else {
      out->kind = d->buf[0];
      out->payload = d->buf + 1;
      out->len = body - 1u;
      d->frames++;
      good = 1;
    }
  }
  frame_reset(d);
  return good;
}

/* COBS of `n` bytes, fed in pieces: `code_at` is where the open block's code byte goes. */
typedef struct {
  uint8_t *out;
  size_t cap, len, code_at;
  int overflow;
} cobs_writer;

static void cobs_put(cobs_writer *w, uint8_t byte) {
  if (w->len >= w->cap) {
    w->overflow = 1;
    return;
  }
  w->out[w->len++] = byte;
}

static void cobs_close_block(cobs_writer *w) {
  if (w->code_at < w->cap) w->out[w->code_at] = (uint8_t)(w->len - w->code_at);
}

static void cobs_open_block(cobs_writer *w) {
  w->code_at = w->len;
  cobs_put(w, 0); /* placeholder for the code byte */
}

static void cobs_byte(cobs_writer *w, uint8_t byte) {
  if (byte == 0) {
    cobs_close_block(w);
    cobs_open_block(w);
    return;
  }
  cobs_put(w, byte);
  if (w->len - w->code_at == 0xFF) { /* a full block: 254 data bytes, no zero implied */
    cobs_close_block(w);
    cobs_open_block(w);
  }
}

size_t tr_frame_encode(uint8_t kind, const uint8_t *payload, size_t len, uint8_t *out,
                       size_t cap) {
  if (len > TR_FRAME_MAX_PAYLOAD || cap < TR_FRAME_ENCODED_MAX(len)) return 0;
  cobs_writer w = {out, cap, 0, 0, 0};
  cobs_open_block(&w);
  uint32_t crc = tr_crc32_update(0, &kind, 1);
  crc = tr_crc32_update(crc, payload, len);
  cobs_byte(&w, kind);
  for (size_t i = 0; i < len; i++) cobs_byte(&w, payload[i]);
  const uint8_t tail[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8),
                           (uint8_t)crc};
  for (size_t i = 0; i < 4; i++) cobs_byte(&w, tail[i]);
  cobs_close_block(&w);
  cobs_put(&w, 0);
  return w.overflow ? 0 : w.len;
}
