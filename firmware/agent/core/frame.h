/* Framing of the agent's serial line (firmware/PROTOCOL.md, "Serial transport").
 *
 * A frame on the wire is COBS(kind || payload || CRC-32) followed by one 0x00 delimiter. The
 * CRC-32 (zlib's) covers kind and payload and is sent big-endian. COBS removes every 0x00 from
 * the encoded bytes, so a receiver that starts in the middle of a frame, or loses bytes, resumes
 * at the next delimiter: a torn or garbled frame is dropped and counted, the next one is read.
 *
 * No allocation: a decoder holds one frame's buffer (TR_FRAME_MAX_PAYLOAD); the caller owns it.
 */
#ifndef TINYREG_FRAME_H
#define TINYREG_FRAME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef TR_FRAME_MAX_PAYLOAD
#define TR_FRAME_MAX_PAYLOAD 2048u /* a chunk frame of 1024 data bytes, a JSON answer */
#endif
/* kind + payload + CRC, COBS overhead (one code byte per 254 bytes, and one), the delimiter */
#define TR_FRAME_ENCODED_MAX(n) ((n) + 5u + ((n) + 5u) / 254u + 2u)

/* Frame kinds: host -> device (the MQTT topic the bridge read it from) ... */
enum {
  TR_FRAME_MANIFEST = 0x01,
  TR_FRAME_COMMAND = 0x02,
  TR_FRAME_CHUNK = 0x03,
  /* ... and device -> host (the topic the bridge publishes it on) */
  TR_FRAME_ACK = 0x11,
  TR_FRAME_RESULT = 0x12,
  TR_FRAME_STATUS = 0x13,
  TR_FRAME_INFERENCE = 0x14,
  TR_FRAME_LOG = 0x15, /* a line for the bridge's log, published nowhere */
};

typedef struct {
  uint8_t buf[TR_FRAME_MAX_PAYLOAD + 5u]; /* kind, payload, CRC */
  size_t len;
  unsigned block_left; /* data bytes left in the current COBS block */
  uint8_t code;        /* the current block's code byte; 0 before the first */
  int broken;          /* the frame overflowed or its coding is wrong: dropped at the delimiter */
  /* counters */
  uint32_t frames;         /* good frames delivered */
  uint32_t dropped_crc;    /* complete frames whose CRC did not match */
  uint32_t dropped_format; /* too long, too short or a COBS block cut by a delimiter */
} tr_frame_decoder;

typedef struct {
  uint8_t kind;
  const uint8_t *payload; /* points into the decoder's buffer, valid until the next feed */
  size_t len;
} tr_frame;

void tr_frame_decoder_init(tr_frame_decoder *d);
/* Feed one received byte; returns 1 and fills `out` when it completed a good frame, else 0. */
int tr_frame_feed(tr_frame_decoder *d, uint8_t byte, tr_frame *out);
/* Encode a frame (with its trailing delimiter) into `out`; returns its length, or 0 when the
 * payload is longer than TR_FRAME_MAX_PAYLOAD or `cap` is smaller than TR_FRAME_ENCODED_MAX. */
size_t tr_frame_encode(uint8_t kind, const uint8_t *payload, size_t len, uint8_t *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
