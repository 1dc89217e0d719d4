// The tinyreg device agent: command line (semihosting argv on QEMU) for the bench mode, the
// self-test and the slot operations. The OTA protocol state machine comes on top of these.
//
//   agent bench MODEL [--budget BYTES]   measure a model (one JSON line)
//   agent selftest                       SHA-256 vectors and the flash layout
//   agent slots boot [--confirm]         choose the slot to boot (marks trial / rejected); with
//                                        --confirm, self-test a trial image and confirm it
//   agent slots install FILE             write FILE to the slot not running, commit record last
//   agent slots confirm                  confirm the slot running on trial (after this boot)
//   agent slots info                     both slots' trailers
//   agent uart TEXT                      write TEXT and a newline to the UART (transport check)
//   agent serve --device ID --key HEX --ram B --ram-reserved B --runtime-overhead B
//               [--slot-bytes B] [--recovery-key HEX]
//                                        the OTA device on the framed UART (app/serve.cc), with
//                                        the TD's id, RAM and flash slot and the trusted key
// Options for every command: --flash PATH (the flash image file, default tinyreg-flash.img).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "serve.h"
#include "sha256.h"
#include "slots.h"
#include "tinyreg/hal.h"

extern "C" void tr_qemu_set_flash_path(const char* path);

#ifndef TR_TARGET_NAME
#define TR_TARGET_NAME "unknown"
#endif
#ifndef TR_CORE_NAME
#define TR_CORE_NAME "unknown"
#endif

namespace {

int usage() {
  fputs("usage: agent bench MODEL [--budget BYTES] | selftest | slots boot [--confirm]|"
        "install FILE|confirm|info"
        " [--flash PATH]\n",
        stderr);
  return 64;
}

bool parse_key(const char* text, uint8_t out[32]) {
  if (!text || strlen(text) != 64) return false;
  for (int i = 0; i < 32; i++) {
    unsigned v = 0;
    for (int k = 0; k < 2; k++) {
      char c = text[2 * i + k];
      unsigned d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : 99u;
      if (d > 15) return false;
      v = v * 16 + d;
    }
    out[i] = static_cast<uint8_t>(v);
  }
  return true;
}

int serve(int argc, char** argv) {
  static tr_serve_config cfg;
  cfg.target = TR_TARGET_NAME;
  bool has_key = false;
  for (int i = 0; i + 1 < argc; i += 2) {
    const char* opt = argv[i];
    const char* val = argv[i + 1];
    if (strcmp(opt, "--device") == 0) {
      cfg.device = val;
    } else if (strcmp(opt, "--key") == 0) {
      has_key = parse_key(val, cfg.key);
    } else if (strcmp(opt, "--recovery-key") == 0) {
      cfg.has_recovery_key = parse_key(val, cfg.recovery_key);
      if (!cfg.has_recovery_key) return usage();
    } else if (strcmp(opt, "--ram") == 0) {
      cfg.ram_bytes = static_cast<uint32_t>(strtoul(val, nullptr, 0));
    } else if (strcmp(opt, "--ram-reserved") == 0) {
      cfg.ram_reserved = static_cast<uint32_t>(strtoul(val, nullptr, 0));
    } else if (strcmp(opt, "--runtime-overhead") == 0) {
      cfg.runtime_ram_overhead = static_cast<uint32_t>(strtoul(val, nullptr, 0));
    } else if (strcmp(opt, "--slot-bytes") == 0) {
      cfg.slot_bytes = static_cast<uint32_t>(strtoul(val, nullptr, 0));
    } else {
      return usage();
    }
  }
  if (!cfg.device || strlen(cfg.device) > 128 || !has_key || cfg.ram_bytes == 0) {
    printf("{\"error\":\"serve needs --device ID, --key HEX (32 bytes) and --ram BYTES\"}\n");
    return 64;
  }
  return tr_serve(&cfg);
}

int selftest() {
  uint8_t d[32];
  char hex[65];
  tr_sha256("abc", 3, d);
  tr_sha256_hex(d, hex);
  bool ok = strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0;
  tr_slots_geom g;
  int rc = tr_slots_geometry(&g);
  printf("{\"target\":\"%s\",\"selftest\":%s,\"sha256_abc\":\"%s\",\"page_size\":%lu,"
         "\"slot_bytes\":%lu,\"image_max\":%lu,\"code_bytes\":%lu,\"clock\":\"%s\"}\n",
         TR_TARGET_NAME, ok && rc == 0 ? "true" : "false", hex,
         static_cast<unsigned long>(g.page_size), static_cast<unsigned long>(g.slot_bytes),
         static_cast<unsigned long>(g.image_max), static_cast<unsigned long>(tr_code_bytes()),
         tr_hal_clock_kind());
  return ok && rc == 0 ? 0 : 1;
}

void print_choice(const char* what, const tr_boot_choice& c) {
  printf("{\"target\":\"%s\",\"%s\":{\"slot\":%d,\"trial\":%s,\"seq\":%lu,\"size\":%lu}}\n",
         TR_TARGET_NAME, what, c.slot, c.trial ? "true" : "false",
         static_cast<unsigned long>(c.seq), static_cast<unsigned long>(c.size));
}

int slots(int argc, char** argv) {
  if (argc < 1) return usage();
  tr_slots_geom g;
  if (tr_slots_geometry(&g) != 0) {
    printf("{\"error\":\"flash layout\"}\n");
    return 1;
  }
  const char* cmd = argv[0];
  if (strcmp(cmd, "info") == 0) {
    printf("{\"target\":\"%s\",\"slots\":[", TR_TARGET_NAME);
    for (int s = 0; s < TR_SLOT_COUNT; s++) {
      tr_slot_info info;
      int rc = tr_slot_info_read(&g, s, &info);
      char hex[65];
      tr_sha256_hex(info.sha256, hex);
      printf("%s{\"slot\":%d,\"state\":\"%s\",\"seq\":%lu,\"size\":%lu,\"sha256\":\"%s\",\"rc\":%d}",
             s ? "," : "", s, tr_slot_state_name(info.state), static_cast<unsigned long>(info.seq),
             static_cast<unsigned long>(info.size), hex, rc);
    }
    printf("]}\n");
    return 0;
  }
  tr_boot_choice running;
  if (tr_boot_select(&g, &running) != 0) {
    printf("{\"error\":\"boot selection failed\"}\n");
    return 1;
  }
  if (strcmp(cmd, "boot") == 0) {
    print_choice("boot", running);
    if (running.slot == TR_NO_SLOT || !running.trial || argc < 2 ||
        strcmp(argv[1], "--confirm") != 0) {
      return 0;
    }
    // self-test of the trial image: load it as the running model, verify it and run it once
    // (the bench); confirm only when that passes, else the next reset reverts it
    uint32_t capacity;
    uint8_t* buffer = tr_model_buffer(&capacity);
    if (running.size > capacity ||
        tr_slot_read(&g, running.slot, 0, buffer, running.size) != TR_SLOTS_OK) {
      printf("{\"target\":\"%s\",\"selftest\":false}\n", TR_TARGET_NAME);
      return 2;
    }
    if (tr_bench_loaded(running.size, 0, "slot", TR_TARGET_NAME, TR_CORE_NAME) != 0) return 2;
    int rc = tr_slot_confirm(&g, running.slot);
    printf("{\"target\":\"%s\",\"confirm\":{\"slot\":%d,\"rc\":%d}}\n", TR_TARGET_NAME,
           running.slot, rc);
    return rc == 0 ? 0 : 1;
  }
  if (strcmp(cmd, "confirm") == 0) {
    int rc = running.slot == TR_NO_SLOT ? TR_SLOTS_ESTATE : tr_slot_confirm(&g, running.slot);
    printf("{\"target\":\"%s\",\"confirm\":{\"slot\":%d,\"rc\":%d}}\n", TR_TARGET_NAME,
           running.slot, rc);
    return rc == 0 ? 0 : 1;
  }
  if (strcmp(cmd, "install") == 0 && argc >= 2) {
    FILE* f = fopen(argv[1], "rb");
    if (!f) {
      printf("{\"error\":\"cannot open the image\"}\n");
      return 1;
    }
    int slot = tr_slot_install_target(&running);
    uint32_t seq;
    int rc = tr_slots_next_seq(&g, &seq);
    if (rc == 0) rc = tr_slot_erase(&g, slot);
    static uint8_t chunk[1024];
    uint32_t off = 0;
    while (rc == 0) {
      size_t n = fread(chunk, 1, sizeof chunk, f);
      if (n == 0) break;
      rc = tr_slot_write(&g, slot, off, chunk, static_cast<uint32_t>(n));
      off += static_cast<uint32_t>(n);
    }
    fclose(f);
    if (rc == 0) rc = tr_slot_finish(&g, slot, off, seq);
    printf("{\"target\":\"%s\",\"install\":{\"slot\":%d,\"seq\":%lu,\"size\":%lu,\"rc\":%d}}\n",
           TR_TARGET_NAME, slot, static_cast<unsigned long>(seq), static_cast<unsigned long>(off),
           rc);
    return rc == 0 ? 0 : 1;
  }
  return usage();
}

}  // namespace

int main(int argc, char** argv) {
  // options first: --flash PATH, --budget BYTES (removed from argv)
  uint32_t budget = 0;
  int n = 0;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--flash") == 0 && i + 1 < argc) {
      tr_qemu_set_flash_path(argv[++i]);
    } else if (strcmp(argv[i], "--verbose") == 0) {
      tr_bench_verbose(1);
    } else if (strcmp(argv[i], "--budget") == 0 && i + 1 < argc) {
      budget = static_cast<uint32_t>(strtoul(argv[++i], nullptr, 0));
    } else {
      argv[n++] = argv[i];
    }
  }
  argc = n;
  if (tr_hal_init() != 0) return 1;
  if (argc < 2) return usage();
  if (strcmp(argv[1], "bench") == 0 && argc >= 3) {
    return tr_bench_file(argv[2], budget, TR_TARGET_NAME, TR_CORE_NAME);
  }
  if (strcmp(argv[1], "selftest") == 0) return selftest();
  if (strcmp(argv[1], "uart") == 0 && argc >= 3) {
    size_t len = strlen(argv[2]);
    size_t sent = 0;
    for (int spins = 0; sent < len && spins < 1000000; spins++) {
      int n = tr_hal_uart_write(reinterpret_cast<const uint8_t*>(argv[2]) + sent, len - sent);
      if (n < 0) return 1;
      sent += static_cast<size_t>(n);
    }
    static const uint8_t newline = '\n';
    while (tr_hal_uart_write(&newline, 1) == 0) {
    }
    printf("{\"target\":\"%s\",\"uart_bytes\":%u}\n", TR_TARGET_NAME,
           static_cast<unsigned>(sent + 1));
    return 0;
  }
  if (strcmp(argv[1], "slots") == 0) return slots(argc - 2, argv + 2);
  if (strcmp(argv[1], "serve") == 0) return serve(argc - 2, argv + 2);
  return usage();
}
