/* Host unit tests of the OTA protocol version 2 on the agent (core/ota.c), on the simulated flash
 * of sim_flash.c with its power-cut injection.
 *
 *   ota_test                 the built-in scenarios (replay after reboot, another device, fit and
 *                            downgrade, chunks and a tampered one, commit with trial/self-test,
 *                            power cuts at every flash operation of a manifest acceptance, a
 *                            key rotation, an abort and a commit)
 *   ota_test vectors FILE    each message of FILE on a freshly provisioned device; FILE has lines
 *                            "key <hex>", "device <id>", "<manifest|cmd> <name> <hex>", as
 *                            tests/test_agent_ota.py writes them from firmware/protocol-v2-vectors.json;
 *                            prints "vector <name> <code> <stage> | <reason>" per message
 *
 * The scenarios sign their own messages with Monocypher (the device never signs: test only), from
 * the vectors' seed (bytes 0..31). Output: "ok"/"FAIL" lines, then a summary; exit status 1 on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "optional/monocypher-ed25519.h"
#include "ota.h"
#include "sha256.h"
#include "sim_flash.h"
#include "tinyreg/hal.h"
#include "check.h"

#define DEVICE "urn:tinyreg:device:arduino-nano-33-ble-sense"
#define OTHER "urn:tinyreg:device:board-17"

static uint8_t secret[64], public_key[32];    /* the vectors' key (seed 0..31) */
static uint8_t secret2[64], public_key2[32];  /* the next key (seed 32..63) */
static uint8_t secret3[64], public_key3[32];  /* a recovery key (seed 64..95) */
static tr_ota ota;
static tr_ota_config config;
static uint8_t image[9000];
static int self_test_result;

static int self_test(int slot, uint32_t size, void *user) {
  (void)slot;
  (void)size;
  (void)user;
  return self_test_result;
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}
static void put64(uint8_t *p, uint64_t v) {
  put32(p, (uint32_t)(v >> 32));
  put32(p + 4, (uint32_t)v);
}
static void put_text(uint8_t *p, const char *s) { memcpy(p, s, strlen(s)); }

typedef struct {
  const char *device, *model, *version, *runtime, *transfer;
  uint64_t seq;
  uint32_t size, arena, chunk_size;
  uint8_t flags;
  const uint8_t *image;
} manifest_spec;

static manifest_spec spec(uint64_t seq) {
  manifest_spec s = {DEVICE, "kws-dscnn-int8", "1.2.0", "tflite-micro", "t-0001", seq,
                     sizeof image, 11888, 1024, 0, image};
  return s;
}

static void header(uint8_t *m, uint8_t kind, uint8_t op, uint8_t flags, uint64_t seq,
                   const char *device) {
  memcpy(m, "TRS2", 4);
  m[4] = kind;
  m[5] = op;
  m[6] = flags;
  put64(m + 8, seq);
  put_text(m + 16, device);
}

static void make_manifest(uint8_t m[TR_OTA_MANIFEST_BYTES], const manifest_spec *s,
                          const uint8_t *sk) {
  memset(m, 0, TR_OTA_MANIFEST_BYTES);
  header(m, 1, 0, s->flags, s->seq, s->device);
  uint8_t *t = m + 144;
  put_text(t, s->transfer);
  tr_sha256(s->image, s->size, t + 16);
  put32(t + 48, s->size);
  put32(t + 52, s->arena);
  put32(t + 56, s->chunk_size);
  put32(t + 60, (s->size + s->chunk_size - 1u) / s->chunk_size);
  put32(t + 64, 32);
  put_text(t + 72, s->model);
  put_text(t + 136, s->version);
  put_text(t + 168, s->runtime);
  put_text(t + 200, "0.dev1");
  crypto_ed25519_sign(m + 376, sk, m, 376);
}

static void make_command(uint8_t c[TR_OTA_COMMAND_BYTES], uint8_t op, uint64_t seq,
                         const char *device, const char *transfer, const uint8_t *argument,
                         const uint8_t *sk) {
  memset(c, 0, TR_OTA_COMMAND_BYTES);
  header(c, 2, op, 0, seq, device);
  put_text(c + 144, transfer);
  if (argument) memcpy(c + 160, argument, 32);
  crypto_ed25519_sign(c + 192, sk, c, 192);
}

static size_t make_chunk(uint8_t *frame, const char *transfer, uint32_t index, const uint8_t *img,
                         uint32_t size, uint32_t chunk_size) {
  uint32_t off = index * chunk_size, n = size - off < chunk_size ? size - off : chunk_size;
  memcpy(frame, "TRC1", 4);
  memset(frame + 4, 0, 16);
  put_text(frame + 4, transfer);
  put32(frame + 20, index);
  put32(frame + 24, tr_crc32(img + off, n));
  memcpy(frame + 28, img + off, n);
  return 28u + n;
}

/* a (re)boot: read the records again, as after a reset */
static int reboot(void) {
  ops_left = -1;
  return tr_ota_init(&ota, &config);
}

static void fresh_device(void) {
  memset(flash, 0xFF, sizeof flash);
  memcpy(config.key, public_key, 32);
  config.recovery_key = NULL;
  self_test_result = 0;
  reboot();
}

static tr_ota_code send_manifest(const manifest_spec *s, const uint8_t *sk, tr_ota_verdict *v) {
  uint8_t m[TR_OTA_MANIFEST_BYTES];
  make_manifest(m, s, sk);
  return tr_ota_on_manifest(&ota, m, sizeof m, v);
}

static tr_ota_code send_command(uint8_t op, uint64_t seq, const uint8_t *argument,
                                const uint8_t *sk, tr_ota_verdict *v) {
  uint8_t c[TR_OTA_COMMAND_BYTES];
  tr_ota_command cmd;
  make_command(c, op, seq, DEVICE, "t-0001", argument, sk);
  return tr_ota_on_command(&ota, c, sizeof c, &cmd, v);
}

/* send every chunk of the transfer described by s; returns the number refused */
static int send_chunks(const manifest_spec *s) {
  static uint8_t frame[28 + 1024];
  tr_ota_verdict v;
  int refused = 0;
  uint32_t chunks = (s->size + s->chunk_size - 1u) / s->chunk_size;
  for (uint32_t i = 0; i < chunks; i++) {
    size_t n = make_chunk(frame, s->transfer, i, s->image, s->size, s->chunk_size);
    if (tr_ota_on_chunk(&ota, frame, n, &v) != TR_OTA_CHUNK_OK) refused++;
  }
  return refused;
}

/* ---- scenarios -------------------------------------------------------------------------------- */

static void test_replay_and_binding(void) {
  tr_ota_verdict v;
  manifest_spec s = spec(100);
  uint8_t m[TR_OTA_MANIFEST_BYTES];
  fresh_device();
  make_manifest(m, &s, secret);
  CHECK(tr_ota_on_manifest(&ota, m, sizeof m, &v) == TR_OTA_ACCEPTED, "manifest: %s", v.reason);
  CHECK(ota.persisted_seq == 100, "seq persisted before the acknowledgement");
  CHECK(tr_ota_on_manifest(&ota, m, sizeof m, &v) == TR_OTA_RESENT, "a resend is acknowledged");
  CHECK(reboot() == 0, "reboot");
  CHECK(ota.last_seq == 100 && ota.transfer_active, "after a reboot: seq 100, transfer kept");
  CHECK(tr_ota_on_manifest(&ota, m, sizeof m, &v) == TR_OTA_RESENT,
        "the unfinished transfer's manifest after a reboot: acknowledged");
  /* a different manifest with an old seq: a replay, with last_seq in the answer */
  manifest_spec old = spec(99);
  old.transfer = "t-0002";
  CHECK(send_manifest(&old, secret, &v) == TR_OTA_E_REPLAY && v.last_seq == 100 &&
            strcmp(v.reason,
                   "sequence number 99 is not greater than the last accepted 100 (a replay)") == 0,
        "replay after a reboot: %s", v.reason);
  /* a read-only command raises only the RAM seq: after a reboot it may come once more */
  CHECK(send_command(TR_OP_INFER, 101, NULL, secret, &v) == TR_OTA_ACCEPTED, "infer");
  CHECK(send_command(TR_OP_INFER, 101, NULL, secret, &v) == TR_OTA_E_REPLAY, "infer replayed");
  reboot();
  CHECK(ota.last_seq == 100, "infer's seq not persisted");
  /* abort persists its seq; the same abort after a reboot is a replay */
  CHECK(send_command(TR_OP_ABORT, 102, NULL, secret, &v) == TR_OTA_ACCEPTED, "abort");
  CHECK(!ota.transfer_active, "abort drops the transfer");
  reboot();
  CHECK(ota.last_seq == 102 && !ota.transfer_active, "abort persisted");
  CHECK(send_command(TR_OP_ABORT, 102, NULL, secret, &v) == TR_OTA_E_REPLAY,
        "abort replayed after a reboot: %s", v.reason);
  /* another device */
  manifest_spec other = spec(200);
  other.device = OTHER;
  CHECK(send_manifest(&other, secret, &v) == TR_OTA_E_DEVICE &&
            strcmp(v.reason, "the message is for another device (" OTHER ")") == 0,
        "another device: %s", v.reason);
  CHECK(ota.last_seq == 102, "a refused message changes no seq");
  /* another key */
  CHECK(send_manifest(&s, secret2, &v) == TR_OTA_E_SIGNATURE, "another key: %s", v.reason);
  /* rollback: refused for now, its seq persisted */
  CHECK(send_command(TR_OP_ROLLBACK, 103, NULL, secret, &v) == TR_OTA_E_REFUSED, "rollback");
  reboot();
  CHECK(ota.last_seq == 103, "rollback's seq persisted");
  /* truncated and garbage */
  CHECK(tr_ota_on_manifest(&ota, m, 439, &v) == TR_OTA_E_LENGTH &&
            strcmp(v.reason, "manifest is not a signed version 2 manifest: 439 bytes, not 440") == 0,
        "truncated: %s", v.reason);
  CHECK(tr_ota_on_manifest(&ota, NULL, 0, &v) == TR_OTA_E_LENGTH, "empty");
  printf("ok replay after reboot, resend, another device, another key, commands\n");
}

static void test_fit(void) {
  tr_ota_verdict v;
  fresh_device();
  manifest_spec s = spec(10);
  s.runtime = "tvm";
  CHECK(send_manifest(&s, secret, &v) == TR_OTA_E_RUNTIME &&
            strcmp(v.reason, "built for runtime tvm, the device runs tflite-micro") == 0,
        "runtime: %s", v.reason);
  static uint8_t big[16000];
  s = spec(11);
  s.image = big;
  s.size = sizeof big;
  CHECK(send_manifest(&s, secret, &v) == TR_OTA_E_SLOT &&
            strcmp(v.reason, "model of 16,000 B does not fit the flash slot of 15,360 B") == 0,
        "slot: %s", v.reason);
  s = spec(12);
  s.arena = 200000;
  CHECK(send_manifest(&s, secret, &v) == TR_OTA_E_ARENA &&
            strcmp(v.reason, "arena of 200,000 B does not fit the 131,072 B of RAM left (262,144 "
                             "\xe2\x88\x92 65,536 reserved \xe2\x88\x92 65,536 runtime)") == 0,
        "arena: %s", v.reason);
  s = spec(13);
  s.chunk_size = 2048;
  CHECK(send_manifest(&s, secret, &v) == TR_OTA_E_FIELD &&
            strcmp(v.reason, "manifest size or chunk size out of bounds") == 0,
        "chunk size over the buffer: %s", v.reason);
  CHECK(ota.last_seq == 0 && !ota.transfer_active, "refusals change nothing");
  printf("ok fit checks\n");
}

static void test_chunks_and_commit(void) {
  tr_ota_verdict v;
  static uint8_t frame[28 + 1024];
  fresh_device();
  manifest_spec s = spec(20);
  CHECK(send_manifest(&s, secret, &v) == TR_OTA_ACCEPTED, "manifest: %s", v.reason);
  /* a chunk whose data was changed after its CRC: dropped, counted */
  size_t n = make_chunk(frame, s.transfer, 3, s.image, s.size, s.chunk_size);
  frame[40] ^= 0x01;
  CHECK(tr_ota_on_chunk(&ota, frame, n, &v) == TR_OTA_E_CHUNK &&
            strcmp(v.reason, "chunk 3: CRC mismatch") == 0,
        "tampered chunk: %s", v.reason);
  CHECK(ota.received == 0 && ota.rejected_messages == 1, "nothing held, one rejected");
  n = make_chunk(frame, s.transfer, 3, s.image, s.size, s.chunk_size);
  CHECK(tr_ota_on_chunk(&ota, frame, n - 1, &v) == TR_OTA_E_CHUNK, "short chunk (CRC)");
  CHECK(tr_ota_on_chunk(&ota, frame, 10, &v) == TR_OTA_E_CHUNK, "truncated header");
  frame[0] = 'X';
  CHECK(tr_ota_on_chunk(&ota, frame, n, &v) == TR_OTA_E_CHUNK, "bad magic");
  n = make_chunk(frame, "t-other", 3, s.image, s.size, s.chunk_size);
  CHECK(tr_ota_on_chunk(&ota, frame, n, &v) == TR_OTA_CHUNK_OTHER, "another transfer's chunk");
  CHECK(send_chunks(&s) == 0, "every chunk written");
  CHECK(send_chunks(&s) == (int)((s.size + 1023u) / 1024u), "duplicates ignored");
  const uint8_t *bits;
  size_t nb = tr_ota_bitmap(&ota, &bits);
  CHECK(nb == 2 && bits[0] == 0xFF && bits[1] == 0x01 && tr_ota_complete(&ota), "bitmap full");
  self_test_result = 0;
  CHECK(tr_ota_commit(&ota, &v) == TR_OTA_ACCEPTED, "commit: %s", v.reason);
  reboot();
  tr_boot_choice c;
  CHECK(tr_boot_select(&ota.geom, &c) == 0 && c.slot == ota.active_slot && !c.trial,
        "the committed image boots confirmed");
  CHECK(ota.has_image && strcmp(ota.version, "1.2.0") == 0 && !ota.transfer_active,
        "state names the image");
  /* a downgrade without the flag is refused; with it accepted */
  manifest_spec d = spec(21);
  d.version = "1.1.9";
  d.transfer = "t-0003";
  CHECK(send_manifest(&d, secret, &v) == TR_OTA_E_DOWNGRADE &&
            strcmp(v.reason, "version 1.1.9 is older than the running 1.2.0 (a downgrade needs "
                             "force)") == 0,
        "downgrade: %s", v.reason);
  d.flags = 1;
  CHECK(send_manifest(&d, secret, &v) == TR_OTA_ACCEPTED, "downgrade with the flag: %s", v.reason);
  /* a newer image that fails its self-test: the previous one runs */
  static uint8_t image2[3000];
  for (size_t i = 0; i < sizeof image2; i++) image2[i] = (uint8_t)(i * 13u);
  manifest_spec u = spec(22);
  u.version = "1.3.0";
  u.transfer = "t-0004";
  u.image = image2;
  u.size = sizeof image2;
  int before = ota.active_slot;
  CHECK(send_manifest(&u, secret, &v) == TR_OTA_ACCEPTED, "update: %s", v.reason);
  CHECK(ota.transfer_slot != before, "written to the spare slot");
  send_chunks(&u);
  self_test_result = -1;
  CHECK(tr_ota_commit(&ota, &v) == TR_OTA_E_SELF_TEST, "failed self-test: %s", v.reason);
  reboot();
  CHECK(tr_boot_select(&ota.geom, &c) == 0 && c.slot == before && ota.active_slot == before &&
            strcmp(ota.version, "1.2.0") == 0,
        "the previous image runs after a failed self-test");
  /* a transfer whose image does not match its manifest's SHA-256 fails verification */
  manifest_spec w = spec(23);
  w.version = "1.3.1";
  w.transfer = "t-0005";
  CHECK(send_manifest(&w, secret, &v) == TR_OTA_ACCEPTED, "manifest: %s", v.reason);
  image[5] ^= 0xFF;
  send_chunks(&w);
  image[5] ^= 0xFF;
  CHECK(tr_ota_commit(&ota, &v) == TR_OTA_E_VERIFY, "verify: %s", v.reason);
  CHECK(tr_boot_select(&ota.geom, &c) == 0 && c.slot == before, "still the committed image");
  printf("ok chunks, tampered chunk, bitmap, commit on trial, self-test, downgrade\n");
}

static void test_rotation(void) {
  tr_ota_verdict v;
  fresh_device();
  CHECK(send_command(TR_OP_ROTATE_KEY, 30, public_key2, secret, &v) == TR_OTA_ACCEPTED, "rotate");
  reboot(); /* still provisioned with the old key: the persisted rotation wins */
  CHECK(memcmp(ota.key, public_key2, 32) == 0, "rotated key persisted");
  manifest_spec s = spec(31);
  CHECK(send_manifest(&s, secret, &v) == TR_OTA_E_SIGNATURE, "old key revoked: %s", v.reason);
  CHECK(send_manifest(&s, secret2, &v) == TR_OTA_ACCEPTED, "new key: %s", v.reason);
  /* the recovery key: only rotate-key */
  config.recovery_key = public_key3;
  reboot();
  s = spec(40);
  s.transfer = "t-0009";
  CHECK(send_manifest(&s, secret3, &v) == TR_OTA_E_SIGNATURE, "recovery key signs no manifest");
  CHECK(send_command(TR_OP_INFER, 41, NULL, secret3, &v) == TR_OTA_E_SIGNATURE,
        "recovery key signs no infer");
  CHECK(send_command(TR_OP_ROTATE_KEY, 42, public_key, secret3, &v) == TR_OTA_ACCEPTED,
        "recovery key rotates: %s", v.reason);
  reboot();
  CHECK(memcmp(ota.key, public_key, 32) == 0 && ota.last_seq == 42, "back to the first key");
  config.recovery_key = NULL;
  /* a new key that is no Ed25519 point (y = 2: x^2 is not a square), or all zero: refused, the
   * seq persisted, the key kept */
  uint8_t not_a_point[32] = {2}, zero[32] = {0};
  uint32_t rejected = ota.rejected_messages;
  CHECK(send_command(TR_OP_ROTATE_KEY, 43, not_a_point, secret, &v) == TR_OTA_E_REFUSED &&
            strcmp(v.stage, "command") == 0 &&
            strcmp(v.reason, "the new key is not an Ed25519 key") == 0,
        "rotate-key to a non-point: %s", v.reason);
  CHECK(send_command(TR_OP_ROTATE_KEY, 44, zero, secret, &v) == TR_OTA_E_REFUSED,
        "rotate-key to zero: %s", v.reason);
  CHECK(ota.rejected_messages == rejected + 2u, "both counted as rejected");
  /* y = 3 is a point (of no known secret): accepted, so the check is not a blanket refusal */
  uint8_t a_point[32] = {3};
  reboot();
  CHECK(memcmp(ota.key, public_key, 32) == 0 && ota.last_seq == 44, "key kept, seq persisted");
  CHECK(send_command(TR_OP_ROTATE_KEY, 45, a_point, secret, &v) == TR_OTA_ACCEPTED,
        "rotate-key to a point: %s", v.reason);
  printf("ok key rotation, revocation, recovery key, invalid points\n");
}

/* two committed images: A (1.2.0, `image`) then B (1.3.0, image_b) */
static uint8_t image_b[5000];
static void commit_two(void) {
  tr_ota_verdict v;
  fresh_device();
  manifest_spec a = spec(50);
  send_manifest(&a, secret, &v);
  send_chunks(&a);
  tr_ota_commit(&ota, &v);
  manifest_spec b = spec(51);
  b.transfer = "t-0002";
  b.version = "1.3.0";
  b.image = image_b;
  b.size = sizeof image_b;
  b.arena = 9000;
  send_manifest(&b, secret, &v);
  send_chunks(&b);
  tr_ota_commit(&ota, &v);
  reboot();
}

static void test_rollback(void) {
  tr_ota_verdict v;
  uint8_t sha_a[32], sha_b[32], other[32];
  tr_sha256(image, sizeof image, sha_a);
  tr_sha256(image_b, sizeof image_b, sha_b);
  memset(other, 0x5A, sizeof other);
  /* nothing before the first commit */
  fresh_device();
  CHECK(send_command(TR_OP_ROLLBACK, 5, NULL, secret, &v) == TR_OTA_E_REFUSED &&
            strcmp(v.stage, "rollback") == 0 &&
            strcmp(v.reason, "no previous image (none committed before, or overwritten by a "
                             "transfer)") == 0,
        "rollback without a previous image: %s", v.reason);
  reboot();
  CHECK(ota.last_seq == 5 && !ota.has_image, "refused: only the seq persisted");
  commit_two();
  CHECK(ota.has_image && strcmp(ota.version, "1.3.0") == 0 && ota.has_previous &&
            strcmp(ota.previous.version, "1.2.0") == 0 &&
            memcmp(ota.previous.sha256, sha_a, 32) == 0 && ota.previous.size == sizeof image &&
            ota.previous.arena_bytes == 11888 && ota.previous.slot != ota.active_slot,
        "the previous committed image is recorded");
  int slot_a = ota.previous.slot, slot_b = ota.active_slot;
  /* an argument naming another image: refused */
  CHECK(send_command(TR_OP_ROLLBACK, 60, other, secret, &v) == TR_OTA_E_REFUSED &&
            strncmp(v.reason, "the previous image is ", 22) == 0 && strstr(v.reason, ", not 5a5a") != NULL,
        "rollback to another image: %s", v.reason);
  CHECK(strcmp(ota.version, "1.3.0") == 0 && ota.last_seq == 60, "nothing changed but the seq");
  /* a previous image failing its self-test: refused, B stays */
  self_test_result = -1;
  CHECK(send_command(TR_OP_ROLLBACK, 61, NULL, secret, &v) == TR_OTA_E_SELF_TEST &&
            strcmp(v.stage, "rollback") == 0,
        "rollback failing its self-test: %s", v.reason);
  self_test_result = 0;
  reboot();
  CHECK(strcmp(ota.version, "1.3.0") == 0 && ota.active_slot == slot_b && ota.last_seq == 61,
        "B still committed");
  /* the rollback, named by the argument: A committed, B the previous one */
  CHECK(send_command(TR_OP_ROLLBACK, 62, sha_a, secret, &v) == TR_OTA_ACCEPTED,
        "rollback: %s", v.reason);
  reboot();
  tr_boot_choice c;
  CHECK(tr_ota_boot(&ota, &c, NULL) == 0 && ota.active_slot == slot_a &&
            strcmp(ota.version, "1.2.0") == 0 && memcmp(ota.image_sha256, sha_a, 32) == 0 &&
            ota.image_size == sizeof image && ota.last_seq == 62,
        "after the rollback and a reboot the state names A");
  CHECK(ota.has_previous && ota.previous.slot == slot_b && memcmp(ota.previous.sha256, sha_b, 32) == 0,
        "B is the previous image");
  /* replayed: refused */
  CHECK(send_command(TR_OP_ROLLBACK, 62, sha_a, secret, &v) == TR_OTA_E_REPLAY, "replayed rollback");
  /* a second rollback goes forward again */
  CHECK(send_command(TR_OP_ROLLBACK, 63, NULL, secret, &v) == TR_OTA_ACCEPTED && ota.active_slot == slot_b &&
            strcmp(ota.version, "1.3.0") == 0,
        "second rollback: forward to B: %s", v.reason);
  /* a manifest for a new transfer forgets the previous image (its slot is erased) */
  manifest_spec n = spec(70);
  n.transfer = "t-0010";
  n.version = "1.4.0";
  CHECK(send_manifest(&n, secret, &v) == TR_OTA_ACCEPTED, "new transfer: %s", v.reason);
  reboot();
  CHECK(!ota.has_previous && ota.transfer_active, "previous forgotten with the acceptance");
  CHECK(send_command(TR_OP_ROLLBACK, 71, NULL, secret, &v) == TR_OTA_E_REFUSED, "nothing to return to");
  /* the previous slot damaged behind the device's back: refused at verify */
  commit_two();
  flash[(uint32_t)ota.previous.slot * ota.geom.slot_bytes + 2048u] ^= 0xFFu;
  CHECK(send_command(TR_OP_ROLLBACK, 80, NULL, secret, &v) == TR_OTA_E_REFUSED &&
            strcmp(v.reason, "verify: the previous image no longer matches its digest") == 0,
        "damaged previous image: %s", v.reason);
  CHECK(strcmp(ota.version, "1.3.0") == 0, "B still committed");
  printf("ok rollback: recorded, refused, self-tested, committed, forward again\n");
}

/* chunks [from, to) of the transfer s */
static void send_range(const manifest_spec *s, uint32_t from, uint32_t to) {
  static uint8_t frame[28 + 1024];
  tr_ota_verdict v;
  for (uint32_t i = from; i < to; i++) {
    size_t n = make_chunk(frame, s->transfer, i, s->image, s->size, s->chunk_size);
    tr_ota_on_chunk(&ota, frame, n, &v);
  }
}

/* every chunk held reads back as the image, and received counts them */
static int chunks_consistent(const manifest_spec *s) {
  static uint8_t buf[1024];
  uint32_t chunks = (s->size + s->chunk_size - 1u) / s->chunk_size, count = 0;
  for (uint32_t i = 0; i < chunks; i++) {
    uint32_t off = i * s->chunk_size, n = s->size - off < s->chunk_size ? s->size - off : s->chunk_size;
    if (tr_slot_read(&ota.geom, ota.transfer_slot, off, buf, n) != 0) return 0;
    int is_held = ota.bitmap[i >> 3] >> (i & 7u) & 1u;
    count += (uint32_t)is_held;
    if (is_held && memcmp(buf, s->image + off, n) != 0) return 0;
  }
  return count == ota.received;
}

/* send what the bitmap lacks, pass after pass (as the deployer after each acknowledgement);
 * returns the chunks written, or -1 when three passes do not complete the transfer */
static int complete_transfer(const manifest_spec *s) {
  static uint8_t frame[28 + 1024];
  tr_ota_verdict v;
  uint32_t chunks = (s->size + s->chunk_size - 1u) / s->chunk_size;
  int written = 0;
  for (int pass = 0; pass < 3 && !tr_ota_complete(&ota); pass++) {
    for (uint32_t i = 0; i < chunks; i++) {
      if (ota.bitmap[i >> 3] >> (i & 7u) & 1u) continue;
      size_t n = make_chunk(frame, s->transfer, i, s->image, s->size, s->chunk_size);
      if (tr_ota_on_chunk(&ota, frame, n, &v) == TR_OTA_CHUNK_OK) written++;
    }
    tr_ota_log_flush(&ota);
  }
  return tr_ota_complete(&ota) ? written : -1;
}

static manifest_spec recovery_spec(uint64_t seq) {
  manifest_spec s = spec(seq);
  s.transfer = "t-0020";
  s.version = "1.3.0";
  s.chunk_size = 512; /* two chunks a page: an erased page costs a neighbour */
  return s;
}

static void test_chunk_recovery(void) {
  tr_ota_verdict v;
  fresh_device();
  manifest_spec s = recovery_spec(90);
  CHECK(send_manifest(&s, secret, &v) == TR_OTA_ACCEPTED, "manifest: %s", v.reason);
  send_range(&s, 0, 7);
  CHECK(tr_ota_log_flush(&ota) == 0, "log flushed (as before an ack)");
  send_range(&s, 7, 8); /* written, not logged */
  reboot();
  CHECK(ota.transfer_active && ota.received == 7 && chunks_consistent(&s),
        "after a reset: the 7 logged chunks held (%u)", (unsigned)ota.received);
  long ops = ops_done;
  send_range(&s, 7, 8);
  CHECK(ota.received == 8 && ops_done == ops,
        "the chunk written but not logged: its bytes found in place, no flash write");
  /* out of order, with a gap, logged in runs */
  send_range(&s, 10, 12);
  CHECK(tr_ota_log_flush(&ota) == 0, "flush");
  reboot();
  CHECK(ota.received == 10 && chunks_consistent(&s), "runs recovered: %u held", (unsigned)ota.received);
  /* the deployer's manifest again (a new seq, same transfer): resumed, the log written anew */
  s.seq = 91;
  CHECK(send_manifest(&s, secret, &v) == TR_OTA_ACCEPTED && ota.received == 10, "resumed: %s",
        v.reason);
  reboot();
  CHECK(ota.received == 10 && chunks_consistent(&s), "resumed transfer's log rewritten");
  /* a held chunk damaged behind the device's back (as a torn write): its line no longer counts,
   * and when the chunk comes again its page is erased before it is written */
  flash[(uint32_t)ota.transfer_slot * ota.geom.slot_bytes + 11u * 512u + 5u] ^= 0x10u;
  reboot();
  CHECK(ota.received == 8 && chunks_consistent(&s), "the damaged line dropped: %u held",
        (unsigned)ota.received);
  uint32_t missing = 18u - ota.received;
  int written = complete_transfer(&s);
  CHECK(written >= (int)missing - 1 && chunks_consistent(&s), "the missing chunks written: %d of %u",
        written, (unsigned)missing);
  CHECK(tr_ota_commit(&ota, &v) == TR_OTA_ACCEPTED && strcmp(ota.version, "1.3.0") == 0,
        "the recovered transfer commits: %s", v.reason);
  printf("ok chunk recovery after a reset: logged runs, unlogged chunks found in place, torn ones rewritten, resume\n");
}

static void test_boots(void) {
  fresh_device();
  CHECK(ota.boots == 0, "a new device has no boots");
  for (int i = 0; i < 3; i++) {
    CHECK(tr_ota_count_boot(&ota) == 0, "count a boot");
    reboot();
  }
  CHECK(ota.boots == 3, "boots counted across resets: %u", (unsigned)ota.boots);
  printf("ok boots counted across resets\n");
}

/* ---- power cuts ------------------------------------------------------------------------------- */

typedef void (*step_fn)(void);

/* state before: a device with A committed at seq 50; step: accept a manifest (seq 60) */
static void setup_committed(void) {
  tr_ota_verdict v;
  fresh_device();
  manifest_spec s = spec(50);
  send_manifest(&s, secret, &v);
  send_chunks(&s);
  tr_ota_commit(&ota, &v);
  reboot();
}
static uint8_t cut_manifest[TR_OTA_MANIFEST_BYTES];
static void step_accept(void) {
  tr_ota_verdict v;
  tr_ota_on_manifest(&ota, cut_manifest, sizeof cut_manifest, &v);
}
static void step_rotate(void) {
  tr_ota_verdict v;
  send_command(TR_OP_ROTATE_KEY, 60, public_key2, secret, &v);
}
static void step_abort(void) {
  tr_ota_verdict v;
  uint8_t c[TR_OTA_COMMAND_BYTES];
  tr_ota_command cmd;
  make_command(c, TR_OP_ABORT, 70, DEVICE, "t-0007", NULL, secret);
  tr_ota_on_command(&ota, c, sizeof c, &cmd, &v);
}
static void step_rollback(void) {
  tr_ota_verdict v;
  send_command(TR_OP_ROLLBACK, 60, NULL, secret, &v);
}
static void setup_rollback_receiving(void) {
  /* B committed, A previous; then a rollback to A dropping nothing */
  commit_two();
}
static char judge_rollback(void) {
  tr_boot_choice c;
  ops_left = -1;
  if (tr_ota_boot(&ota, &c, NULL) != 0 || !ota.has_image || !ota.has_previous) return 'x';
  tr_slot_info active, prev;
  if (tr_slot_info_read(&ota.geom, ota.active_slot, &active) != 0 ||
      tr_slot_info_read(&ota.geom, ota.previous.slot, &prev) != 0 ||
      memcmp(active.sha256, ota.image_sha256, 32) != 0 ||
      memcmp(prev.sha256, ota.previous.sha256, 32) != 0 || active.state != TR_SLOT_CONFIRMED) {
    return 'x';
  }
  if (ota.last_seq == 51 && strcmp(ota.version, "1.3.0") == 0 &&
      strcmp(ota.previous.version, "1.2.0") == 0) {
    return 'o';
  }
  if (ota.last_seq == 60 && strcmp(ota.version, "1.2.0") == 0 &&
      strcmp(ota.previous.version, "1.3.0") == 0) {
    return 'n';
  }
  return 'x';
}
static uint8_t rec_manifest[TR_OTA_MANIFEST_BYTES];
static void setup_rec(void) {
  tr_ota_verdict v;
  setup_committed();
  tr_ota_on_manifest(&ota, rec_manifest, sizeof rec_manifest, &v);
  reboot();
}
static void step_transfer(void) {
  manifest_spec s = recovery_spec(60);
  for (uint32_t i = 0; i < 18u; i += 4u) { /* window 4: a log line before each ack */
    send_range(&s, i, i + 4u < 18u ? i + 4u : 18u);
    tr_ota_log_flush(&ota);
  }
}
static char judge_transfer(void) {
  manifest_spec s = recovery_spec(60);
  if (!ota.transfer_active || !chunks_consistent(&s)) return 'x';
  return ota.received == 18u ? 'n' : 'o';
}
static void setup_receiving(void) {
  tr_ota_verdict v;
  setup_committed();
  tr_ota_on_manifest(&ota, cut_manifest, sizeof cut_manifest, &v);
  reboot();
}

/* what the device holds after a reboot: 'o' old state, 'n' new, 'x' a mix */
typedef char (*judge_fn)(void);

static char judge_accept(void) {
  int committed = ota.has_image && strcmp(ota.version, "1.2.0") == 0;
  if (!committed) return 'x';
  if (ota.last_seq == 50 && !ota.transfer_active) return 'o';
  if (ota.last_seq == 60 && ota.transfer_active && ota.transfer.seq == 60 &&
      memcmp(ota.transfer_message, cut_manifest, sizeof cut_manifest) == 0) {
    return 'n';
  }
  return 'x';
}
static char judge_rotate(void) {
  int committed = ota.has_image && strcmp(ota.version, "1.2.0") == 0;
  if (!committed) return 'x';
  if (ota.last_seq == 50 && memcmp(ota.key, public_key, 32) == 0) return 'o';
  if (ota.last_seq == 60 && memcmp(ota.key, public_key2, 32) == 0) return 'n';
  return 'x';
}
static char judge_abort(void) {
  if (ota.last_seq == 60 && ota.transfer_active) return 'o';
  if (ota.last_seq == 70 && !ota.transfer_active) return 'n';
  if (ota.last_seq == 60 && !ota.transfer_active) return 'd'; /* dropped, abort replayable once */
  return 'x';
}

static void power_cuts(const char *name, step_fn setup, step_fn step, judge_fn judge,
                       const char *allowed) {
  setup();
  ops_done = 0;
  ops_left = -1;
  step();
  long total = ops_done;
  reboot();
  CHECK(judge() == 'n', "%s: without a cut the new state", name);
  for (long n = 0; n < total; n++) {
    setup();
    ops_done = 0;
    ops_left = n;
    volatile int was_cut = 0;
    if (setjmp(cut) == 0) step();
    else was_cut = 1;
    CHECK(was_cut, "%s: cut at op %ld happened", name, n);
    CHECK(reboot() == 0, "%s: reboot after cut %ld", name, n);
    char got = judge();
    CHECK(strchr(allowed, got) != NULL, "%s: cut at op %ld of %ld: state %c", name, n, total, got);
    /* and the device goes on: a second reboot reads the same */
    CHECK(reboot() == 0 && judge() == got, "%s: cut at op %ld: second boot", name, n);
  }
  printf("ok %s: power cut at each of %ld flash operations\n", name, total);
}

/* a commit cut short, then a boot: the image that boots is the one the state names */
static const manifest_spec *commit_spec;
static void setup_complete(void) {
  tr_ota_verdict v;
  setup_committed();
  send_manifest(commit_spec, secret, &v);
  send_chunks(commit_spec);
  tr_ota_log_flush(&ota); /* as the serve mode does before its `complete` acknowledgement */
}
static void step_commit(void) {
  tr_ota_verdict v;
  tr_ota_commit(&ota, &v);
}
static char judge_commit(void) {
  tr_boot_choice c;
  ops_left = -1;
  if (tr_ota_boot(&ota, &c, NULL) != 0 || c.slot == TR_NO_SLOT || c.slot != ota.active_slot) return 'x';
  tr_slot_info info;
  if (tr_slot_info_read(&ota.geom, c.slot, &info) != 0 ||
      memcmp(info.sha256, ota.image_sha256, 32) != 0 || info.state != TR_SLOT_CONFIRMED) {
    return 'x';
  }
  if (strcmp(ota.version, "1.2.0") == 0) return 'o';
  if (strcmp(ota.version, "1.3.0") == 0 && !ota.transfer_active) return 'n';
  return 'x';
}

/* A commit cut at each of its flash operations, or finished with its verdict lost (the cut after
 * the last operation, before the answer left), then the start-up and the deployer's resume step
 * (it sees the new boot count and sends a sync naming the transfer; on `unknown` a fresh
 * manifest, on a bitmap the missing chunks). Every cut must end in a verdict for the transfer,
 * never in a device that holds every chunk and waits while the deployer waits for it. */
static void test_commit_cut_then_resume(void) {
  manifest_spec c = *commit_spec;
  setup_complete();
  ops_done = 0;
  ops_left = -1;
  step_commit();
  long total = ops_done;
  int outcomes[8] = {0};
  uint8_t tid[16] = {0};
  memcpy(tid, c.transfer, strlen(c.transfer));
  for (long n = 0; n <= total; n++) {
    setup_complete();
    ops_done = 0;
    ops_left = n < total ? n : -1;
    if (setjmp(cut) == 0) step_commit();
    CHECK(reboot() == 0, "commit cut at op %ld: reboot", n);
    tr_boot_choice choice;
    tr_ota_after_boot after;
    CHECK(tr_ota_boot(&ota, &choice, &after) == 0, "commit cut at op %ld: boot", n);
    tr_ota_verdict v;
    char verdict = '?'; /* 'c' committed, 'r' rolled back: what the deployer is told */
    switch (after.outcome) {
      case TR_OTA_BOOT_COMMITTED:
        verdict = 'c';
        break;
      case TR_OTA_BOOT_REVERTED:
      case TR_OTA_BOOT_SELF_TEST:
        verdict = 'r';
        break;
      case TR_OTA_BOOT_COMPLETE: /* the start-up commits it and answers */
        verdict = tr_ota_commit(&ota, &v) == TR_OTA_ACCEPTED ? 'c' : 'r';
        break;
      case TR_OTA_BOOT_RESUME:
      case TR_OTA_BOOT_QUIET:
        break;
    }
    outcomes[after.outcome]++;
    if (verdict == '?') { /* nothing said at boot: the deployer's sync */
      tr_ota_sync_answer answer = tr_ota_sync(&ota, tid);
      if (answer == TR_OTA_SYNC_COMMITTED) {
        verdict = 'c';
      } else if (answer == TR_OTA_SYNC_BITMAP) {
        CHECK(!tr_ota_complete(&ota), "commit cut at op %ld: a complete transfer waits", n);
        verdict = complete_transfer(&c) >= 0 && tr_ota_commit(&ota, &v) == TR_OTA_ACCEPTED ? 'c' : 'r';
      } else { /* unknown: a fresh manifest, the chunks again */
        c.seq = 70;
        verdict = send_manifest(&c, secret, &v) == TR_OTA_ACCEPTED && complete_transfer(&c) >= 0 &&
                          tr_ota_commit(&ota, &v) == TR_OTA_ACCEPTED
                      ? 'c'
                      : 'r';
        c.seq = commit_spec->seq;
      }
    }
    CHECK(verdict == 'c' || verdict == 'r', "commit cut at op %ld of %ld: a verdict", n, total);
    /* the verdict is true to what boots: committed runs 1.3.0, rolled back the previous 1.2.0 */
    CHECK(reboot() == 0 && tr_ota_boot(&ota, &choice, NULL) == 0 && choice.slot == ota.active_slot,
          "commit cut at op %ld: boots the committed slot", n);
    CHECK(strcmp(ota.version, verdict == 'c' ? "1.3.0" : "1.2.0") == 0 && !ota.transfer_active,
          "commit cut at op %ld: verdict %c, running %s", n, verdict, ota.version);
    if (verdict == 'c') {
      CHECK(tr_ota_sync(&ota, tid) == TR_OTA_SYNC_COMMITTED && ota.image_seq >= 60,
            "commit cut at op %ld: a later sync gets the verdict again", n);
    }
  }
  printf("ok commit cut at each of %ld flash operations and after the last, then boot and the "
         "deployer's sync: a verdict every time (boot outcomes: resume %d, complete %d, committed "
         "%d, reverted %d, quiet %d)\n",
         total, outcomes[TR_OTA_BOOT_RESUME], outcomes[TR_OTA_BOOT_COMPLETE],
         outcomes[TR_OTA_BOOT_COMMITTED], outcomes[TR_OTA_BOOT_REVERTED],
         outcomes[TR_OTA_BOOT_QUIET]);
}

static void test_power_cuts(void) {
  manifest_spec s = spec(60);
  s.transfer = "t-0007";
  s.version = "1.3.0";
  make_manifest(cut_manifest, &s, secret);
  power_cuts("manifest acceptance", setup_committed, step_accept, judge_accept, "on");
  power_cuts("key rotation", setup_committed, step_rotate, judge_rotate, "on");
  power_cuts("abort", setup_receiving, step_abort, judge_abort, "ond");
  static uint8_t image2[5000];
  for (size_t i = 0; i < sizeof image2; i++) image2[i] = (uint8_t)(i * 5u + 1u);
  manifest_spec c = spec(60);
  c.transfer = "t-0008";
  c.version = "1.3.0";
  c.image = image2;
  c.size = sizeof image2;
  commit_spec = &c;
  self_test_result = 0;
  power_cuts("commit", setup_complete, step_commit, judge_commit, "on");
  test_commit_cut_then_resume();
  power_cuts("rollback", setup_rollback_receiving, step_rollback, judge_rollback, "on");
  manifest_spec r = recovery_spec(60);
  make_manifest(rec_manifest, &r, secret);
  power_cuts("transfer with its log", setup_rec, step_transfer, judge_transfer, "on");
  /* and after every one of those cuts the transfer completes and commits */
  int completed = 0, total = 0;
  for (long n = 0; n < 23; n++) {
    setup_rec();
    ops_done = 0;
    ops_left = n;
    if (setjmp(cut) == 0) step_transfer();
    reboot();
    tr_ota_verdict v;
    total++;
    completed += complete_transfer(&r) >= 0 && tr_ota_commit(&ota, &v) == TR_OTA_ACCEPTED &&
                 strcmp(ota.version, "1.3.0") == 0;
  }
  CHECK(completed == total, "transfer completed after %d of %d cuts", completed, total);
  printf("ok transfer completed and committed after a cut at each flash operation\n");
  /* after a cut that lost the acceptance, the resent manifest is accepted anew */
  setup_committed();
  ops_done = 0;
  ops_left = 3;
  if (setjmp(cut) == 0) step_accept();
  reboot();
  tr_ota_verdict v;
  CHECK(judge_accept() == 'o' &&
            tr_ota_on_manifest(&ota, cut_manifest, sizeof cut_manifest, &v) == TR_OTA_ACCEPTED,
        "the resent manifest is accepted after a lost acceptance: %s", v.reason);
}

/* ---- vectors ---------------------------------------------------------------------------------- */

static int hex_decode(const char *hex, uint8_t *out, size_t max, size_t *len) {
  size_t n = strlen(hex);
  if (n % 2 || n / 2 > max) return -1;
  for (size_t i = 0; i < n / 2; i++) {
    unsigned b;
    if (sscanf(hex + 2 * i, "%2x", &b) != 1) return -1;
    out[i] = (uint8_t)b;
  }
  *len = n / 2;
  return 0;
}

static int run_vectors(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    printf("FAIL cannot open %s\n", path);
    return 1;
  }
  static char line[4096], device[200], kind[16], name[64], hex[2048];
  static uint8_t msg[1024];
  uint8_t key[32];
  size_t len;
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "key %64s", hex) == 1) {
      if (hex_decode(hex, key, 32, &len) || len != 32) printf("FAIL bad key line\n");
    } else if (sscanf(line, "device %199s", device) == 1) {
      config.device_id = device;
    } else if (sscanf(line, "%15s %63s %2047s", kind, name, hex) == 3) {
      if (hex_decode(hex, msg, sizeof msg, &len)) {
        printf("FAIL bad hex for %s\n", name);
        continue;
      }
      memset(flash, 0xFF, sizeof flash);
      memcpy(config.key, key, 32);
      reboot();
      tr_ota_verdict v;
      tr_ota_command c;
      tr_ota_code code = strcmp(kind, "manifest") == 0
                             ? tr_ota_on_manifest(&ota, msg, len, &v)
                             : tr_ota_on_command(&ota, msg, len, &c, &v);
      printf("vector %s %s %s | %s\n", name, tr_ota_code_name(code), v.stage[0] ? v.stage : "-",
             v.reason);
    }
  }
  fclose(f);
  return 0;
}

int main(int argc, char **argv) {
  uint8_t seed[32];
  for (int i = 0; i < 32; i++) seed[i] = (uint8_t)i;
  crypto_ed25519_key_pair(secret, public_key, seed);
  for (int i = 0; i < 32; i++) seed[i] = (uint8_t)(32 + i);
  crypto_ed25519_key_pair(secret2, public_key2, seed);
  for (int i = 0; i < 32; i++) seed[i] = (uint8_t)(64 + i);
  crypto_ed25519_key_pair(secret3, public_key3, seed);
  for (size_t i = 0; i < sizeof image; i++) image[i] = (uint8_t)(i * 7u + (i >> 8));
  sim_pages = 2u * 16u + TR_OTA_RESERVED_PAGES; /* two slots of 16 pages: 15 KiB of image */
  config.device_id = DEVICE;
  config.runtime = "tflite-micro";
  config.ram_bytes = 262144;
  config.ram_reserved = 65536;
  config.runtime_ram_overhead = 65536;
  config.chunk_buffer = 1024;
  config.self_test = self_test;
  if (argc == 3 && strcmp(argv[1], "vectors") == 0) return run_vectors(argv[2]);
  char id[17];
  tr_ota_key_id(public_key, id);
  CHECK(strcmp(id, "56475aa75463474c") == 0, "key id of the vectors' key: %s", id);
  test_replay_and_binding();
  test_fit();
  test_chunks_and_commit();
  test_rotation();
  for (size_t i = 0; i < sizeof image_b; i++) image_b[i] = (uint8_t)(i * 11u + 3u);
  test_rollback();
  test_boots();
  test_chunk_recovery();
  test_power_cuts();
  printf("%s: %d checks, %d failures\n", failures ? "FAILED" : "PASSED", checks, failures);
  return failures ? 1 : 0;
}
