/* The device side of the OTA protocol version 2 (firmware/PROTOCOL.md): signed manifests and
 * commands checked in the protocol's order, the persisted state (last_seq, trusted key, active
 * slot), the unfinished-transfer record, chunk frames and the received-chunks bitmap, and the
 * commit through core/slots.c (trial, self-test, confirm).
 *
 * Flash: the last TR_OTA_RESERVED_PAGES pages of the HAL's area are the OTA records (two
 * alternating state-record pages with a generation number and CRC, the newest valid one wins, and
 * one unfinished-transfer page); the pages before them are the two slots.
 *
 * No allocation: a tr_ota holds everything (1.7 KiB with the default bitmap); the caller owns it
 * (static storage on the target).
 */
#ifndef TINYREG_OTA_H
#define TINYREG_OTA_H

#include <stddef.h>
#include <stdint.h>

#include "slots.h"
#include "tinyreg/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TR_OTA_MANIFEST_BYTES 440u
#define TR_OTA_COMMAND_BYTES 256u
#define TR_OTA_MANIFEST_BODY 376u
#define TR_OTA_COMMAND_BODY 192u
#define TR_OTA_CHUNK_HEADER 28u
#define TR_OTA_RESERVED_PAGES 3u
#ifndef TR_OTA_MAX_CHUNKS
#define TR_OTA_MAX_CHUNKS 4096u /* bitmap size: a build constant */
#endif

/* Outcomes and refusal reasons; tr_ota_code_name() gives a stable name for each. */
typedef enum {
  TR_OTA_ACCEPTED = 0,   /* manifest: a new or resumed transfer; command: obey it */
  TR_OTA_RESENT,         /* the unfinished transfer's manifest again: acknowledge, change nothing */
  TR_OTA_E_LENGTH,       /* step 1 */
  TR_OTA_E_MAGIC,        /* step 1: magic or kind */
  TR_OTA_E_SIGNATURE,    /* step 2 */
  TR_OTA_E_FIELD,        /* step 3: reserved bytes, flags, string fields, bounds */
  TR_OTA_E_DEVICE,       /* step 4: for another device */
  TR_OTA_E_REPLAY,       /* step 5 */
  TR_OTA_E_RUNTIME,      /* step 6, stage fit */
  TR_OTA_E_SLOT,         /* step 6, stage fit: larger than the flash slot */
  TR_OTA_E_ARENA,        /* step 6, stage fit: arena over the RAM budget */
  TR_OTA_E_FIT,          /* step 6, stage fit: chunking this build cannot hold */
  TR_OTA_E_DOWNGRADE,    /* step 6, stage manifest */
  TR_OTA_E_FLASH,        /* the flash HAL failed */
  TR_OTA_E_REFUSED,      /* a command that does not apply now (e.g. rollback without previous) */
  TR_OTA_CHUNK_OK,       /* a chunk written */
  TR_OTA_CHUNK_HELD,     /* a chunk already held: ignored */
  TR_OTA_CHUNK_OTHER,    /* a chunk of no current transfer: ignored */
  TR_OTA_E_CHUNK,        /* a malformed chunk (length, magic, index, CRC): dropped and counted */
  TR_OTA_E_VERIFY,       /* commit: the image's SHA-256 or the manifest's signature */
  TR_OTA_E_SELF_TEST,    /* commit: the self-test failed, the previous image runs */
} tr_ota_code;

enum { TR_OP_SYNC = 1, TR_OP_STATUS, TR_OP_INFER, TR_OP_ABORT, TR_OP_ROLLBACK, TR_OP_ROTATE_KEY };

typedef struct {
  tr_ota_code code;
  const char *stage; /* manifest, fit, command, transfer, verify, self-test, commit */
  char reason[256];  /* the Python device's wording where PROTOCOL.md gives it */
  uint64_t last_seq; /* for a replay */
} tr_ota_verdict;

typedef struct {
  uint8_t flags;
  uint64_t seq;
  uint8_t transfer[16];
  uint8_t sha256[32];
  uint32_t size, arena_bytes, chunk_size, chunks, window;
  char device[129], model[65], version[33], runtime[33], runtime_version[33];
} tr_ota_manifest;

typedef struct {
  uint8_t op;
  uint64_t seq;
  char device[129];
  uint8_t transfer[16];
  uint8_t argument[32];
} tr_ota_command;

/* An image the state names: the committed one, or the previous one (the rollback target). */
typedef struct {
  int slot;
  uint32_t size, arena_bytes;
  uint8_t sha256[32];
  char model[65], version[33];
  uint8_t transfer[16]; /* the transfer that delivered it (all zero: unknown) */
  uint64_t seq;         /* the sequence number of the manifest it was committed under */
} tr_ota_image;

/* What the start-up found of the transfer that was unfinished at the reset (tr_ota_boot). */
typedef enum {
  TR_OTA_BOOT_QUIET = 0, /* no unfinished transfer */
  TR_OTA_BOOT_RESUME,    /* kept with chunks missing: the deployer's sync gets the bitmap */
  TR_OTA_BOOT_COMPLETE,  /* every chunk held, never sealed: the caller commits it now */
  TR_OTA_BOOT_COMMITTED, /* its commit, cut by the reset, finished at this start-up */
  TR_OTA_BOOT_REVERTED,  /* it had started on trial: rejected, the previous image boots */
  TR_OTA_BOOT_SELF_TEST, /* its sealed image failed the self-test at this start-up: rejected */
} tr_ota_boot_outcome;

typedef struct {
  tr_ota_boot_outcome outcome;
  tr_ota_manifest transfer; /* the transfer's manifest (outcomes other than QUIET) */
} tr_ota_after_boot;

typedef struct {
  const char *device_id;
  uint8_t key[32];              /* provisioned current key (a rotation persisted wins) */
  const uint8_t *recovery_key;  /* 32 bytes, or NULL */
  const char *runtime;          /* "tflite-micro" */
  uint32_t ram_bytes, ram_reserved, runtime_ram_overhead;
  uint32_t chunk_buffer;        /* largest chunk accepted, at least 1024 */
  /* Load and self-test the image in `slot`; 0 when it passes. NULL: every image passes. */
  int (*self_test)(int slot, uint32_t size, void *user);
  void *user;
} tr_ota_config;

typedef struct {
  tr_ota_config cfg;
  tr_slots_geom geom;
  uint32_t record_page; /* first of the two state-record pages; the transfer page follows */
  /* the persisted state (as last read or written) */
  uint32_t generation;
  int record_index; /* page (0/1) holding the newest valid record, -1: none */
  uint64_t persisted_seq;
  uint8_t key[32];
  int key_rotated;
  int has_image, active_slot;
  uint8_t image_sha256[32];
  char model[65], version[33];
  uint32_t image_size, image_arena;
  uint8_t image_transfer[16]; /* the transfer that delivered the committed image */
  uint64_t image_seq;         /* and the manifest's sequence number */
  int has_previous;      /* the image before the committed one is still in its slot */
  tr_ota_image previous; /* what a rollback returns to */
  uint32_t boots;        /* start-ups counted by tr_ota_count_boot */
  /* in RAM */
  uint64_t last_seq;
  int transfer_active;
  int transfer_slot;
  uint8_t transfer_message[TR_OTA_MANIFEST_BYTES];
  tr_ota_manifest transfer;
  uint32_t received;
  uint32_t run_first, run_count; /* chunks written since the last log line (one run) */
  uint32_t log_next;             /* offset of the next log line in the transfer page */
  uint8_t bitmap[(TR_OTA_MAX_CHUNKS + 7u) / 8u];
  uint32_t rejected_messages;
} tr_ota;

const char *tr_ota_code_name(tr_ota_code code);
int tr_ota_op_persists(uint8_t op);

/* Read the records (newest valid state, then the unfinished transfer, which is discarded when its
 * seq is above the persisted last_seq or its signature no longer verifies). The chunks of a kept
 * transfer are recovered from its transfer log (a line's chunks count when their bytes still
 * match its CRC). Returns 0 or a negative tr_slots_err. */
int tr_ota_init(tr_ota *ota, const tr_ota_config *cfg);

/* Checks only (steps 1-5, and 6 for a manifest), nothing written. */
tr_ota_code tr_ota_check_manifest(tr_ota *ota, const uint8_t *msg, size_t len,
                                  tr_ota_manifest *out, tr_ota_verdict *v);
tr_ota_code tr_ota_check_command(tr_ota *ota, const uint8_t *msg, size_t len, tr_ota_command *out,
                                 tr_ota_verdict *v);

/* Check, then act: a manifest accepted is written durably (slot erased for a new transfer, the
 * transfer record, then the state record with its seq) before this returns TR_OTA_ACCEPTED. */
tr_ota_code tr_ota_on_manifest(tr_ota *ota, const uint8_t *msg, size_t len, tr_ota_verdict *v);
/* sync/status/infer raise the RAM last_seq; abort, rotate-key and rollback are persisted.
 * rotate-key to a key that is not an Ed25519 point is refused (seq persisted). rollback: the
 * previous image checked against its recorded SHA-256 and size, self-tested (cfg.self_test), then
 * one state write makes it the committed image and the image it leaves the previous one; refused
 * (TR_OTA_E_REFUSED / TR_OTA_E_SELF_TEST, stage "rollback", seq persisted) when there is none, the
 * argument names another image, or it fails. An unfinished transfer is dropped by a rollback that
 * passes its checks. The caller answers sync/status/infer. */
tr_ota_code tr_ota_on_command(tr_ota *ota, const uint8_t *msg, size_t len, tr_ota_command *out,
                              tr_ota_verdict *v);
/* A chunk written extends the current run of unlogged chunks; a chunk that does not continue it
 * logs the run first. A chunk whose bytes the slot already holds (written before a reset, not
 * logged) is not programmed again; one whose place holds other bytes (torn by a reset) has its
 * pages erased first, and the chunks held on them are dropped from the bitmap (fetched again). */
tr_ota_code tr_ota_on_chunk(tr_ota *ota, const uint8_t *frame, size_t len, tr_ota_verdict *v);
/* Append the chunks written since the last log line to the transfer log (one line). Call it before
 * every acknowledgement: a reset then loses at most the chunks not yet acknowledged. */
int tr_ota_log_flush(tr_ota *ota);
int tr_ota_complete(const tr_ota *ota);
/* The acknowledgement bitmap: bit i of byte i/8, LSB first; returns its length in bytes. */
size_t tr_ota_bitmap(const tr_ota *ota, const uint8_t **bits);
/* Every chunk held: seal the slot, verify SHA-256 and signature, boot it on trial, self-test,
 * confirm and write the state naming it; a failure reverts to the previous slot. */
tr_ota_code tr_ota_commit(tr_ota *ota, tr_ota_verdict *v);

/* At start-up, after tr_ota_init: choose the slot to boot (tr_boot_select) and finish what a
 * power cut interrupted, reported in `after` (may be NULL): an image of the unfinished transfer
 * booting on trial is self-tested and confirmed, a confirmed one is named in the state record
 * (COMMITTED); one that had started on trial is rejected (REVERTED) and one failing its self-test
 * too (SELF_TEST), and the transfer is dropped. A transfer kept with every chunk held but its slot
 * never sealed is COMPLETE: the caller commits it (tr_ota_commit) and sends that verdict; with
 * chunks missing it is RESUME. Afterwards the state names the slot that boots (or none). */
int tr_ota_boot(tr_ota *ota, tr_boot_choice *choice, tr_ota_after_boot *after);

/* Whether the committed image came from `transfer` (16 bytes): the device committed it and has
 * forgotten the transfer itself; a `sync` naming it is answered with that verdict again. */
int tr_ota_committed_transfer(const tr_ota *ota, const uint8_t transfer[16]);

/* What a `sync` naming `transfer` is answered with. */
typedef enum {
  TR_OTA_SYNC_BITMAP,    /* the unfinished transfer: its acknowledgement bitmap */
  TR_OTA_SYNC_COMMITTED, /* the transfer of the committed image: that verdict again */
  TR_OTA_SYNC_UNKNOWN,   /* neither: {"unknown": true} (the deployer sends a fresh manifest) */
} tr_ota_sync_answer;
tr_ota_sync_answer tr_ota_sync(const tr_ota *ota, const uint8_t transfer[16]);

/* Forget the unfinished transfer (its record and log erased). */
int tr_ota_drop_transfer(tr_ota *ota);

/* Count a start-up in the persisted state (one state write). */
int tr_ota_count_boot(tr_ota *ota);

/* key_id: the first 16 hex digits of the SHA-256 of a raw public key (17 bytes with the NUL). */
void tr_ota_key_id(const uint8_t key[32], char out[17]);

#ifdef __cplusplus
}
#endif

#endif
