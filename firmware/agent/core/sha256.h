/* SHA-256 (FIPS 180-4), compact, no allocation. */
#ifndef TINYREG_SHA256_H
#define TINYREG_SHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  uint32_t state[8];
  uint64_t length; /* bytes hashed so far */
  uint8_t block[64];
  uint32_t used; /* bytes in block */
} tr_sha256_ctx;

void tr_sha256_init(tr_sha256_ctx *ctx);
void tr_sha256_update(tr_sha256_ctx *ctx, const void *data, size_t len);
void tr_sha256_final(tr_sha256_ctx *ctx, uint8_t digest[32]);
void tr_sha256(const void *data, size_t len, uint8_t digest[32]);
/* Lower-case hex of a digest into out (65 bytes with the terminating NUL). */
void tr_sha256_hex(const uint8_t digest[32], char out[65]);

#ifdef __cplusplus
}
#endif

#endif
