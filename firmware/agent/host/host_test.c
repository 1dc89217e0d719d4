/* Host unit tests of the agent's portable core: SHA-256 vectors, CRC-32, and the slots and boot
 * records under simulated power cuts at every flash write step.
 *
 * The flash HAL here is a RAM array with the semantics of NOR flash (program only clears bits,
 * erase sets a page to 0xFF). A "power cut" after N flash operations leaves operation N torn
 * (an erase leaves a page of mixed old and erased bytes, a program only some of its bytes) and
 * unwinds to the test with longjmp; the test then "reboots" by running the boot selection on the
 * same array. Output: one line per check, "ok" / "FAIL", and a summary; exit status 1 on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "sha256.h"
#include "slots.h"
#include "tinyreg/hal.h"
#include "sim_flash.h"
#include "check.h"

/* ---- helpers -------------------------------------------------------------------------------- */

static tr_slots_geom geom;
static uint8_t image_a[5000], image_b[6789];

static void fill(uint8_t *buf, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(seed * 31u + i * 7u + (i >> 8));
}

/* install an image into a slot in chunks of 512 bytes (offsets multiples of the unit) */
static int install(int slot, const uint8_t *img, uint32_t size) {
  uint32_t seq;
  if (tr_slots_next_seq(&geom, &seq)) return -1;
  if (tr_slot_erase(&geom, slot)) return -1;
  for (uint32_t off = 0; off < size; off += 512u) {
    uint32_t n = size - off < 512u ? size - off : 512u;
    if (tr_slot_write(&geom, slot, off, img + off, n)) return -1;
  }
  return tr_slot_finish(&geom, slot, size, seq);
}

/* which image (by content) a boot choice runs: 'A', 'B' or 0 for none; '?' for anything else */
static char booted_image(const tr_boot_choice *c) {
  static uint8_t buf[8192];
  if (c->slot == TR_NO_SLOT) return 0;
  if (tr_slot_read(&geom, c->slot, 0, buf, c->size)) return '?';
  if (c->size == sizeof image_a && memcmp(buf, image_a, sizeof image_a) == 0) return 'A';
  if (c->size == sizeof image_b && memcmp(buf, image_b, sizeof image_b) == 0) return 'B';
  return '?';
}

/* boot with no power cut; returns the image that runs */
static char boot(tr_boot_choice *c) {
  ops_left = -1;
  if (tr_boot_select(&geom, c) != 0) return '!';
  return booted_image(c);
}

/* state: A installed and confirmed in slot 0 */
static void setup_a_confirmed(void) {
  tr_boot_choice c;
  memset(flash, 0xFF, sizeof flash);
  ops_left = -1;
  install(0, image_a, sizeof image_a);
  boot(&c);
  tr_slot_confirm(&geom, c.slot);
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_sha256(void) {
  static const struct { const char *msg; const char *hex; } v[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    uint8_t d[32];
    char hex[65];
    tr_sha256(v[i].msg, strlen(v[i].msg), d);
    tr_sha256_hex(d, hex);
    CHECK(strcmp(hex, v[i].hex) == 0, "sha256 vector %zu: %s", i, hex);
  }
  /* one million 'a', fed in uneven pieces */
  tr_sha256_ctx ctx;
  uint8_t chunk[997], d[32];
  char hex[65];
  memset(chunk, 'a', sizeof chunk);
  tr_sha256_init(&ctx);
  for (size_t left = 1000000; left;) {
    size_t n = left < sizeof chunk ? left : sizeof chunk;
    tr_sha256_update(&ctx, chunk, n);
    left -= n;
  }
  tr_sha256_final(&ctx, d);
  tr_sha256_hex(d, hex);
  CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0,
        "sha256 million a: %s", hex);
  CHECK(tr_crc32("123456789", 9) == 0xCBF43926u, "crc32 check value");
  printf("ok sha256 and crc32 vectors\n");
}

static void test_basic_cycle(void) {
  tr_boot_choice c;
  memset(flash, 0xFF, sizeof flash);
  CHECK(boot(&c) == 0, "empty flash boots nothing");
  CHECK(install(0, image_a, sizeof image_a) == 0, "install A");
  CHECK(boot(&c) == 'A' && c.trial, "A boots on trial");
  CHECK(tr_slot_confirm(&geom, c.slot) == 0, "confirm A");
  CHECK(boot(&c) == 'A' && !c.trial, "A boots confirmed");
  int target = tr_slot_install_target(&c);
  CHECK(target == 1, "B goes to slot 1");
  CHECK(install(target, image_b, sizeof image_b) == 0, "install B");
  CHECK(boot(&c) == 'B' && c.trial, "B boots on trial");
  CHECK(boot(&c) == 'A' && !c.trial, "B unconfirmed at the next reset: back to A");
  CHECK(boot(&c) == 'A', "and A stays");
  CHECK(install(1, image_b, sizeof image_b) == 0, "install B again");
  CHECK(boot(&c) == 'B' && c.trial, "B on trial again");
  CHECK(tr_slot_confirm(&geom, c.slot) == 0, "confirm B");
  CHECK(boot(&c) == 'B' && !c.trial, "B confirmed");
  tr_boot_choice running = c;
  CHECK(tr_slot_install_target(&running) == 0, "next install goes to slot 0");
  uint8_t too_big[16];
  CHECK(tr_slot_write(&geom, 0, geom.image_max, too_big, 16) == TR_SLOTS_ETOOBIG,
        "an image larger than the slot is refused");
  printf("ok install, trial, revert, confirm\n");
}

/* Run `step` with a power cut after every possible number of flash operations; after each cut,
 * reboot and require one of the allowed outcomes. */
typedef void (*setup_fn)(void);
typedef void (*step_fn)(void);

static void power_cuts(const char *name, setup_fn setup, step_fn step, const char *allowed,
                       char after_success) {
  long total;
  setup();
  ops_done = 0;
  ops_left = -1;
  step();
  total = ops_done;
  for (long n = 0; n <= total; n++) {
    setup();
    ops_done = 0;
    ops_left = n;
    volatile int was_cut = 0;
    if (setjmp(cut) == 0) {
      step();
    } else {
      was_cut = 1;
    }
    tr_boot_choice c;
    char got = boot(&c);
    if (!was_cut) {
      CHECK(got == after_success, "%s: no cut at %ld: booted %c", name, n, got ? got : '-');
      continue;
    }
    CHECK(got != '?' && got != '!' && strchr(allowed, got ? got : '-') != NULL,
          "%s: cut at op %ld of %ld: booted %c, allowed %s", name, n, total, got ? got : '-',
          allowed);
    /* and a second reboot never lands on a half-written image either */
    char again = boot(&c);
    CHECK(again != '?' && again != '!', "%s: cut at op %ld: second boot %c", name, n, again);
  }
  printf("ok %s: power cut at each of %ld flash operations\n", name, total + 1);
}

static void setup_empty(void) { memset(flash, 0xFF, sizeof flash); }
static void step_install_a(void) { install(0, image_a, sizeof image_a); }
static void step_install_b(void) { install(1, image_b, sizeof image_b); }

static void setup_b_pending(void) {
  setup_a_confirmed();
  ops_left = -1;
  install(1, image_b, sizeof image_b);
}
static void step_boot(void) { tr_boot_choice c; tr_boot_select(&geom, &c); }

static void setup_b_trial(void) {
  tr_boot_choice c;
  setup_b_pending();
  ops_left = -1;
  tr_boot_select(&geom, &c); /* B on trial */
}
static void step_confirm_b(void) { tr_slot_confirm(&geom, 1); }

static void setup_b_confirmed(void) {
  setup_b_trial();
  ops_left = -1;
  tr_slot_confirm(&geom, 1);
}
static void step_install_a_over_slot0(void) { install(0, image_a, sizeof image_a); }

int main(void) {
  fill(image_a, sizeof image_a, 1);
  fill(image_b, sizeof image_b, 2);
  test_sha256();
  if (tr_slots_geometry(&geom) != 0) {
    printf("FAIL geometry\n");
    return 1;
  }
  test_basic_cycle();
  /* a first install into an empty device: nothing, or the new image on trial */
  power_cuts("first install", setup_empty, step_install_a, "-A", 'A');
  /* an update while A is committed: A, or B (on trial) only when B is complete */
  power_cuts("update install", setup_a_confirmed, step_install_b, "AB", 'B');
  /* the boot that starts B's trial (writes the trial flag) */
  power_cuts("trial boot", setup_b_pending, step_boot, "AB", 'A');
  /* confirming B: B confirmed, or B reverted to A; never nothing */
  power_cuts("confirm", setup_b_trial, step_confirm_b, "AB", 'B');
  /* the boot that reverts an unconfirmed trial (writes the rejected flag): A */
  power_cuts("revert boot", setup_b_trial, step_boot, "A", 'A');
  /* overwriting the older slot while B is committed: B, or the new A on trial */
  power_cuts("install over older slot", setup_b_confirmed, step_install_a_over_slot0, "BA", 'A');
  printf("%s: %d checks, %d failures\n", failures ? "FAILED" : "PASSED", checks, failures);
  return failures ? 1 : 0;
}
