/* CRC-32 (IEEE), bitwise: small code, no table. */
#include "crc32.h"

uint32_t tr_crc32_update(uint32_t crc, const void *data, size_t len) {
  const uint8_t *p = (const uint8_t *)data;
  crc = ~crc;
  while (len--) {
    crc ^= *p++;
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

uint32_t tr_crc32(const void *data, size_t len) { return tr_crc32_update(0, data, len); }
