/* Serve mode: the device side of the OTA protocol version 2 over the framed UART. */
#ifndef TINYREG_SERVE_H
#define TINYREG_SERVE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  const char *device;       /* the TD id */
  uint8_t key[32];          /* the provisioned Ed25519 public key */
  int has_recovery_key;
  uint8_t recovery_key[32];
  uint32_t ram_bytes, ram_reserved, runtime_ram_overhead; /* the TD's RAM */
  uint32_t slot_bytes;      /* the TD's flash slot (0: the flash's own) */
  const char *target;
} tr_serve_config;

/* Boot the last committed model and answer frames until reset; returns only on a fatal error. */
int tr_serve(const tr_serve_config *cfg);

#ifdef __cplusplus
}
#endif

#endif
