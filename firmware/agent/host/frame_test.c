/* Host unit tests of the serial framing (core/frame.c): round trips of every length, garbled,
 * torn and overlong frames dropped and counted with the next frame still read.
 *
 *   frame_test                 the built-in checks; exit status 1 on failure
 *   frame_test decode FILE     decode the raw bytes of FILE: one line "frame KIND HEX" per good
 *                              frame, then "counters FRAMES DROPPED_CRC DROPPED_FORMAT"
 *   frame_test encode KIND HEX the encoded frame of payload HEX (kind in decimal), as hex
 * The Python codec (tinyreg.firmware.framing) is checked against the last two.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "check.h"

static uint8_t payload[TR_FRAME_MAX_PAYLOAD + 16];
static uint8_t wire[TR_FRAME_ENCODED_MAX(TR_FRAME_MAX_PAYLOAD + 16) * 3];
static tr_frame_decoder dec;

static unsigned rnd_state = 12345u;
static uint8_t rnd(void) {
  rnd_state = rnd_state * 1103515245u + 12345u;
  return (uint8_t)(rnd_state >> 16);
}

/* feed bytes; returns how many good frames came out, the last one in *last */
static int feed_all(const uint8_t *p, size_t n, tr_frame *last) {
  int got = 0;
  for (size_t i = 0; i < n; i++) {
    tr_frame f;
    if (tr_frame_feed(&dec, p[i], &f)) {
      got++;
      if (last) *last = f;
    }
  }
  return got;
}

static void round_trips(void) {
  static const size_t lengths[] = {0, 1, 2, 248, 249, 250, 253, 254, 255, 508, 1052, 2047, 2048};
  for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
    for (int zeros = 0; zeros < 3; zeros++) {
      size_t n = lengths[li];
      for (size_t i = 0; i < n; i++) {
        payload[i] = zeros == 0 ? (uint8_t)(rnd() | 1u) : zeros == 1 ? rnd() : 0;
      }
      size_t len = tr_frame_encode(0x03, payload, n, wire, sizeof wire);
      CHECK(len > 0 && len <= TR_FRAME_ENCODED_MAX(n), "encode %zu bytes", n);
      CHECK(memchr(wire, 0, len - 1) == NULL && wire[len - 1] == 0, "no zero inside, %zu", n);
      tr_frame f;
      tr_frame_decoder_init(&dec);
      CHECK(feed_all(wire, len, &f) == 1, "decode %zu bytes", n);
      CHECK(f.kind == 0x03 && f.len == n && memcmp(f.payload, payload, n) == 0,
            "payload of %zu bytes back", n);
    }
  }
  CHECK(tr_frame_encode(1, payload, TR_FRAME_MAX_PAYLOAD + 1, wire, sizeof wire) == 0,
        "a payload over the maximum is not encoded");
  CHECK(tr_frame_encode(1, payload, 100, wire, TR_FRAME_ENCODED_MAX(100) - 1) == 0,
        "a short output buffer is refused");
}

static void bad_frames(void) {
  for (size_t i = 0; i < 300; i++) payload[i] = rnd();
  size_t len = tr_frame_encode(0x01, payload, 300, wire, sizeof wire);
  /* every single-byte change (except into a delimiter) and the next frame still arrives */
  int missed = 0, accepted = 0;
  for (size_t at = 0; at + 1 < len; at++) {
    static uint8_t copy[sizeof wire];
    memcpy(copy, wire, len);
    copy[at] ^= (uint8_t)(1u + at % 200u);
    if (copy[at] == 0) copy[at] = 0x55;
    memcpy(copy + len, wire, len);
    tr_frame_decoder_init(&dec);
    tr_frame f;
    int got = feed_all(copy, 2 * len, &f);
    if (got != 1) accepted++;
    if (got < 1 || f.len != 300 || memcmp(f.payload, payload, 300) != 0) missed++;
    if (dec.dropped_crc + dec.dropped_format != 1) missed++;
  }
  CHECK(missed == 0, "a garbled frame is dropped and counted, the next one read (%d)", missed);
  CHECK(accepted == 0, "no garbled frame accepted (%d)", accepted);
  /* torn: the receiver starts in the middle, or the sender stops in the middle */
  for (size_t cut = 1; cut + 1 < len; cut += 7) {
    tr_frame_decoder_init(&dec);
    tr_frame f;
    int got = feed_all(wire + cut, len - cut, NULL) + feed_all(wire, len, &f);
    CHECK(got == 1 && dec.dropped_crc + dec.dropped_format == 1 && f.len == 300,
          "a frame torn at its head (%zu) dropped", cut);
    static uint8_t torn[sizeof wire];
    memcpy(torn, wire, cut);
    torn[cut] = 0;
    tr_frame_decoder_init(&dec);
    got = feed_all(torn, cut + 1, NULL) + feed_all(wire, len, &f);
    CHECK(got == 1 && dec.dropped_crc + dec.dropped_format == 1 && f.len == 300,
          "a frame torn at its tail (%zu) dropped", cut);
  }
  /* overlong: bytes without a delimiter beyond the buffer, then a good frame */
  tr_frame_decoder_init(&dec);
  for (size_t i = 0; i < sizeof dec.buf + 500; i++) {
    tr_frame f;
    tr_frame_feed(&dec, (uint8_t)(1u + i % 250u), &f);
  }
  tr_frame f;
  int got = feed_all((const uint8_t *)"\0", 1, NULL) + feed_all(wire, len, &f);
  CHECK(got == 1 && dec.dropped_format == 1, "an overlong frame dropped, the next one read");
  /* idle delimiters are not frames */
  tr_frame_decoder_init(&dec);
  static const uint8_t idle[4] = {0, 0, 0, 0};
  CHECK(feed_all(idle, 4, NULL) == 0 && dec.dropped_format == 0 && dec.dropped_crc == 0,
        "delimiters alone are idle line");
  /* too short for a kind and a CRC */
  static const uint8_t tiny[] = {0x03, 0x11, 0x22, 0x00};
  CHECK(feed_all(tiny, sizeof tiny, NULL) == 0 && dec.dropped_format == 1, "a short frame");
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "decode") == 0) {
    FILE *f = fopen(argv[2], "rb");
    if (!f) return 2;
    tr_frame_decoder_init(&dec);
    int c;
    while ((c = fgetc(f)) != EOF) {
      tr_frame fr;
      if (tr_frame_feed(&dec, (uint8_t)c, &fr)) {
        printf("frame %u ", fr.kind);
        for (size_t i = 0; i < fr.len; i++) printf("%02x", fr.payload[i]);
        printf("\n");
      }
    }
    fclose(f);
    printf("counters %u %u %u\n", (unsigned)dec.frames, (unsigned)dec.dropped_crc,
           (unsigned)dec.dropped_format);
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "encode") == 0) {
    size_t n = strlen(argv[3]) / 2;
    if (n > TR_FRAME_MAX_PAYLOAD) return 2;
    for (size_t i = 0; i < n; i++) {
      int hi = hexval(argv[3][2 * i]), lo = hexval(argv[3][2 * i + 1]);
      if (hi < 0 || lo < 0) return 2;
      payload[i] = (uint8_t)(hi << 4 | lo);
    }
    size_t len = tr_frame_encode((uint8_t)atoi(argv[2]), payload, n, wire, sizeof wire);
    for (size_t i = 0; i < len; i++) printf("%02x", wire[i]);
    printf("\n");
    return len ? 0 : 1;
  }
  round_trips();
  bad_frames();
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
