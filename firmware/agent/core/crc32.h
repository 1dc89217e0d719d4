/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32). */
#ifndef TINYREG_CRC32_H
#define TINYREG_CRC32_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

uint32_t tr_crc32_update(uint32_t crc, const void *data, size_t len);
uint32_t tr_crc32(const void *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif
