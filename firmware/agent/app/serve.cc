// Serve mode: the agent as an OTA device on its UART. Frames (core/frame.c) carry the signed
// manifests, commands and chunk frames in, and the JSON answers out (ack, result, status,
// inference: the fields and wording of firmware/PROTOCOL.md and the Python device). core/ota.c
// checks and persists; this file loads and self-tests images in TFLM and writes the answers.
#include "serve.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "frame.h"
#include "ota.h"
#include "sha256.h"
#include "slots.h"
#include "tinyreg/hal.h"

namespace {

const tr_serve_config* g_cfg;
tr_ota g_ota;
tr_frame_decoder g_dec;
uint8_t g_wire[TR_FRAME_ENCODED_MAX(TR_FRAME_MAX_PAYLOAD)];
uint32_t g_arena;  // the TD's arena budget (RAM - reserved - runtime), at most the static arena

bool g_running;  // a model is loaded and answers `infer`
tr_model_run g_run;
char g_last_error[320];
const char* g_state = "idle";
uint32_t g_since_ack;
uint64_t g_transfer_start;

// the self-test of a trial image (called by core/ota.c from the commit or the boot)
bool g_in_commit;
tr_model_run g_trial;
const char* g_trial_stage;
char g_trial_reason[300];
uint64_t g_verified_time;

const char kClock[] = "QEMU virtual clock in real time (host time, not a board's)";

// ---- JSON answers ------------------------------------------------------------------------------

struct Json {
  char buf[TR_FRAME_MAX_PAYLOAD];
  size_t len;
};
Json g_json;

void jraw(const char* s) {
  size_t n = strlen(s);
  if (g_json.len + n >= sizeof g_json.buf) n = sizeof g_json.buf - 1 - g_json.len;
  memcpy(g_json.buf + g_json.len, s, n);
  g_json.len += n;
}

void jfmt(const char* fmt, ...) {
  char tmp[64];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  jraw(tmp);
}

void jbegin() {
  g_json.len = 0;
  jraw("{");
}

void jkey(const char* key) {
  if (g_json.len > 1) jraw(",");
  jraw("\"");
  jraw(key);
  jraw("\":");
}

void jstr(const char* key, const char* value) {
  jkey(key);
  if (!value) {
    jraw("null");
    return;
  }
  jraw("\"");
  for (const unsigned char* p = reinterpret_cast<const unsigned char*>(value); *p; p++) {
    if (*p == '"' || *p == '\\') {
      char esc[3] = {'\\', static_cast<char>(*p), 0};
      jraw(esc);
    } else if (*p < 0x20) {
      jfmt("\\u%04x", *p);
    } else {
      char c[2] = {static_cast<char>(*p), 0};
      jraw(c);
    }
  }
  jraw("\"");
}

void ju64(const char* key, uint64_t v) {
  char buf[24];
  char* p = buf + sizeof buf - 1;
  *p = '\0';
  do {
    *--p = static_cast<char>('0' + v % 10u);
    v /= 10u;
  } while (v);
  jkey(key);
  jraw(p);
}

void jbool(const char* key, bool v) {
  jkey(key);
  jraw(v ? "true" : "false");
}

// a duration of the clock (ns) in milliseconds with four decimals, as the Python device rounds
void jms(const char* key, uint64_t ns) {
  uint64_t tenths_of_us = (ns + 50u) / 100u;  // 1e-4 ms
  char buf[24];
  char* p = buf + sizeof buf - 1;
  *p = '\0';
  for (int i = 0; i < 4; i++) {
    *--p = static_cast<char>('0' + tenths_of_us % 10u);
    tenths_of_us /= 10u;
  }
  *--p = '.';
  do {
    *--p = static_cast<char>('0' + tenths_of_us % 10u);
    tenths_of_us /= 10u;
  } while (tenths_of_us);
  jkey(key);
  jraw(p);
}

void jend() { jraw("}"); }

void send_frame(uint8_t kind, const uint8_t* payload, size_t len) {
  size_t n = tr_frame_encode(kind, payload, len, g_wire, sizeof g_wire);
  for (size_t sent = 0; sent < n;) {
    int k = tr_hal_uart_write(g_wire + sent, n - sent);
    if (k < 0) return;
    sent += static_cast<size_t>(k);
  }
}

void send(uint8_t kind) {
  jend();
  send_frame(kind, reinterpret_cast<const uint8_t*>(g_json.buf), g_json.len);
}

void log_line(const char* fmt, ...) {
  char line[200];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n > 0) send_frame(TR_FRAME_LOG, reinterpret_cast<const uint8_t*>(line), strlen(line));
}

// ---- fields ------------------------------------------------------------------------------------

void text16(const uint8_t* raw, char out[17]) {
  memcpy(out, raw, 16);
  out[16] = '\0';
}

void hex(const uint8_t* raw, size_t n, char* out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[raw[i] >> 4];
    out[2 * i + 1] = digits[raw[i] & 15u];
  }
  out[2 * n] = '\0';
}

void base64(const uint8_t* in, size_t n, char* out) {
  static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = static_cast<uint32_t>(in[i]) << 16;
    if (i + 1 < n) v |= static_cast<uint32_t>(in[i + 1]) << 8;
    if (i + 2 < n) v |= in[i + 2];
    out[o++] = t[v >> 18 & 63u];
    out[o++] = t[v >> 12 & 63u];
    out[o++] = i + 1 < n ? t[v >> 6 & 63u] : '=';
    out[o++] = i + 2 < n ? t[v & 63u] : '=';
  }
  out[o] = '\0';
}

uint64_t be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | p[i];
  return v;
}

// What an unverified signed message claims (core/protocol.py's peek): only to name a refusal.
struct Claimed {
  bool ok;
  uint8_t kind, op;
  uint64_t seq;
  char transfer[17];
};

Claimed peek(const uint8_t* msg, size_t len) {
  Claimed c{};
  if (len < 160 || memcmp(msg, "TRS2", 4) != 0) return c;
  c.ok = true;
  c.kind = msg[4];
  c.op = msg[5];
  c.seq = be64(msg + 8);
  text16(msg + 144, c.transfer);
  return c;
}

const char* op_name(uint8_t op) {
  static const char* const kNames[] = {nullptr, "sync",  "status",    "infer",
                                       "abort", "rollback", "rotate-key"};
  return op >= 1 && op <= 6 ? kNames[op] : nullptr;
}

const char* running_model() { return g_running ? g_ota.model : nullptr; }
const char* running_version() { return g_running ? g_ota.version : nullptr; }

// ---- answers -----------------------------------------------------------------------------------

void status() {
  char key_id[17], sha[65];
  tr_ota_key_id(g_ota.key, key_id);
  hex(g_ota.image_sha256, 32, sha);
  jbegin();
  jstr("device", g_cfg->device);
  jstr("state", g_state);
  jstr("model", running_model());
  jstr("version", running_version());
  jstr("sha256", g_running ? sha : nullptr);
  if (g_running) {
    ju64("arena_used_bytes", g_run.arena_used_bytes);
    jms("load_ms", g_run.load_time);
    jms("inference_ms", g_run.inference_time);
  } else {
    jraw(",\"arena_used_bytes\":null,\"load_ms\":null,\"inference_ms\":null");
  }
  jstr("last_error", g_last_error[0] ? g_last_error : nullptr);
  ju64("boots", g_ota.boots);
  ju64("seq", g_ota.persisted_seq);
  jstr("key_id", key_id);
  ju64("rejected_messages", g_ota.rejected_messages + g_dec.dropped_crc + g_dec.dropped_format);
  ju64("protocol", 2);
  jstr("target", g_cfg->target);
  jstr("clock", kClock);
  send(TR_FRAME_STATUS);
}

void ack(bool complete, bool sync) {
  // every chunk the deployer is told about is in the transfer log first
  if (tr_ota_log_flush(&g_ota) != 0) log_line("the transfer log cannot be written");
  const uint8_t* bits;
  size_t n = tr_ota_bitmap(&g_ota, &bits);
  static char b64[(TR_OTA_MAX_CHUNKS / 8u + 2u) / 3u * 4u + 8u];
  base64(bits, n, b64);
  char tid[17];
  text16(g_ota.transfer.transfer, tid);
  g_since_ack = 0;
  jbegin();
  jstr("transfer", tid);
  jstr("have", b64);
  ju64("count", g_ota.received);
  jbool("complete", complete);
  jbool("sync", sync);
  send(TR_FRAME_ACK);
}

// a manifest refused or failed: the device runs its previous model
void refuse(const Claimed& c, const tr_ota_manifest* m, const char* stage, const char* reason,
            const tr_ota_verdict* replay) {
  snprintf(g_last_error, sizeof g_last_error, "%s: %s", stage, reason);
  g_state = "idle";
  jbegin();
  if (c.ok) ju64("seq", c.seq); else jraw("\"seq\":null");
  jstr("transfer", c.ok ? c.transfer : "");
  jstr("model", m ? m->model : nullptr);
  jstr("version", m ? m->version : nullptr);
  jstr("outcome", "rolled_back");
  jstr("stage", stage);
  jstr("reason", reason);
  jstr("running", running_model());
  jstr("running_version", running_version());
  if (replay) ju64("last_seq", replay->last_seq);
  send(TR_FRAME_RESULT);
  status();
}

void answer(const Claimed& c, const char* outcome, const char* stage, const char* reason,
            const tr_ota_verdict* replay, const char* key_id) {
  jbegin();
  if (c.ok) ju64("seq", c.seq); else jraw("\"seq\":null");
  jstr("op", c.ok && c.kind == 2 ? op_name(c.op) : nullptr);
  jstr("outcome", outcome);
  jstr("stage", stage);
  jstr("reason", reason);
  jstr("running", running_model());
  jstr("running_version", running_version());
  if (replay) ju64("last_seq", replay->last_seq);
  if (key_id) jstr("key_id", key_id);
  send(TR_FRAME_RESULT);
}

// ---- the running model ---------------------------------------------------------------------------

// Load `slot` (an image of `size` bytes) into the model buffer and the interpreter; three runs,
// the median inference time kept. Returns 0, or the stage and reason of the refusal.
int load_slot(int slot, uint32_t size, tr_model_run* run, const char** stage, char* reason,
              size_t reason_len) {
  tr_model_unload();
  uint32_t capacity;
  uint8_t* buffer = tr_model_buffer(&capacity);
  *stage = "load";
  if (size > capacity) {
    snprintf(reason, reason_len, "model of %lu B is larger than the model buffer of %lu B",
             static_cast<unsigned long>(size), static_cast<unsigned long>(capacity));
    return -1;
  }
  if (tr_slot_read(&g_ota.geom, slot, 0, buffer, size) != TR_SLOTS_OK) {
    snprintf(reason, reason_len, "flash read failed");
    return -1;
  }
  const char* code = nullptr;
  if (tr_model_load(size, g_arena, run, &code, reason, reason_len) != 0) {
    if (code && strcmp(code, "inference_failed") == 0) *stage = "self-test";
    return -1;
  }
  uint64_t times[3] = {run->inference_time, 0, 0};
  tr_model_run again;
  for (int i = 1; i < 3; i++) {
    if (tr_model_infer(&again, reason, reason_len) != 0) {
      *stage = "self-test";
      return -1;
    }
    if (strcmp(again.output_sha256, run->output_sha256) != 0) {
      *stage = "self-test";
      snprintf(reason, reason_len, "the outputs differ from run to run");
      return -1;
    }
    times[i] = again.inference_time;
  }
  uint64_t lo = times[0] < times[1] ? times[0] : times[1];
  uint64_t hi = times[0] < times[1] ? times[1] : times[0];
  run->inference_time = times[2] < lo ? lo : times[2] > hi ? hi : times[2];
  return 0;
}

// the committed image (the state record's slot), or none
void boot_running() {
  g_running = false;
  if (!g_ota.has_image) return;
  tr_slot_info info;
  if (tr_slot_info_read(&g_ota.geom, g_ota.active_slot, &info) != TR_SLOTS_OK) {
    snprintf(g_last_error, sizeof g_last_error, "boot: the active slot cannot be read");
    return;
  }
  const char* stage;
  char reason[300];
  if (load_slot(g_ota.active_slot, info.size, &g_run, &stage, reason, sizeof reason) != 0) {
    snprintf(g_last_error, sizeof g_last_error, "boot: %s", reason);
    return;
  }
  g_running = true;
}

extern "C" int self_test(int slot, uint32_t size, void* user) {
  (void)user;
  if (g_in_commit) {
    char tid[17];
    text16(g_ota.transfer.transfer, tid);
    g_verified_time = tr_hal_clock_now() - g_transfer_start;
    jbegin();
    jstr("transfer", tid);
    jbool("verified", true);
    ju64("count", g_ota.transfer.chunks);
    send(TR_FRAME_ACK);
  }
  g_running = false;  // the model buffer now holds the trial image
  g_trial_reason[0] = '\0';
  return load_slot(slot, size, &g_trial, &g_trial_stage, g_trial_reason, sizeof g_trial_reason);
}

// ---- frames ------------------------------------------------------------------------------------

void on_manifest(const uint8_t* msg, size_t len) {
  Claimed c = peek(msg, len);
  tr_ota_verdict v;
  tr_ota_code rc = tr_ota_on_manifest(&g_ota, msg, len, &v);
  if (rc == TR_OTA_RESENT) {
    ack(false, false);
    return;
  }
  if (rc == TR_OTA_ACCEPTED) {
    g_state = "receiving";
    g_transfer_start = tr_hal_clock_now();
    g_since_ack = 0;
    ack(false, false);
    return;
  }
  // the fields are read for the answer once the signature and the fields checked out
  static tr_ota_manifest m;
  const tr_ota_manifest* named = nullptr;
  if (rc >= TR_OTA_E_DEVICE) {
    tr_ota_verdict ignored;
    uint64_t saved = g_ota.last_seq;
    g_ota.last_seq = 0;
    tr_ota_check_manifest(&g_ota, msg, len, &m, &ignored);
    g_ota.last_seq = saved;
    named = &m;
  }
  refuse(c, named, v.stage && v.stage[0] ? v.stage : "manifest", v.reason,
         rc == TR_OTA_E_REPLAY ? &v : nullptr);
}

// The running model's figures end a `result`, which is sent.
void send_with_figures() {
  jms("load_ms", g_run.load_time);
  jms("inference_ms", g_run.inference_time);
  ju64("arena_used_bytes", g_run.arena_used_bytes);
  jstr("output_sha256", g_run.output_sha256);
  jstr("clock", kClock);
  send(TR_FRAME_RESULT);
}

// The verdict `committed` for the transfer `transfer` (its manifest's seq, model and version):
// after the commit itself, at the boot that finished a commit a reset cut short, and again in
// answer to a sync naming the transfer of the committed image. `reason` null after a plain commit.
void committed(uint64_t seq, const uint8_t transfer[16], const char* model, const char* version,
               const char* reason, bool verified) {
  char tid[17];
  text16(transfer, tid);
  jbegin();
  ju64("seq", seq);
  jstr("transfer", tid);
  jstr("model", model);
  jstr("version", version);
  jstr("outcome", "committed");
  jstr("stage", "commit");
  jstr("reason", reason);
  jstr("running", running_model());
  jstr("running_version", running_version());
  if (verified) jms("verified_s", g_verified_time / 1000u);  // ns -> s with the ms formatter
  send_with_figures();
}

// Every chunk held: verify, seal, self-test on trial, confirm; the verdict either way. `reason`
// names a commit that starts at boot (the transfer was complete when the reset came).
void finish(const char* reason) {
  static tr_ota_manifest m;
  m = g_ota.transfer;
  Claimed c{};
  c.ok = true;
  c.seq = m.seq;
  text16(m.transfer, c.transfer);
  g_state = "loading";
  g_in_commit = true;
  tr_ota_verdict v;
  tr_ota_code rc = tr_ota_commit(&g_ota, &v);
  g_in_commit = false;
  if (rc == TR_OTA_ACCEPTED) {
    g_run = g_trial;
    g_running = true;
    g_state = "idle";
    g_last_error[0] = '\0';
    committed(m.seq, m.transfer, m.model, m.version, reason, true);
    status();
    return;
  }
  boot_running();  // the self-test overwrote the model buffer: the previous model again
  if (rc == TR_OTA_E_SELF_TEST && g_trial_reason[0]) {
    refuse(c, &m, g_trial_stage, g_trial_reason, nullptr);
  } else {
    refuse(c, &m, v.stage && v.stage[0] ? v.stage : "verify", v.reason, nullptr);
  }
}

void on_chunk(const uint8_t* frame, size_t len) {
  tr_ota_verdict v;
  tr_ota_code rc = tr_ota_on_chunk(&g_ota, frame, len, &v);
  if (rc != TR_OTA_CHUNK_OK && rc != TR_OTA_CHUNK_HELD) return;
  g_since_ack++;
  if (tr_ota_complete(&g_ota)) {
    ack(true, false);
    finish(nullptr);
  } else if (g_since_ack >= g_ota.transfer.window) {
    ack(false, false);
  }
}

void on_command(const uint8_t* msg, size_t len) {
  Claimed c = peek(msg, len);
  bool had = g_ota.transfer_active;
  static tr_ota_manifest before;
  before = g_ota.transfer;
  tr_ota_command cmd;
  tr_ota_verdict v;
  tr_ota_code rc = tr_ota_on_command(&g_ota, msg, len, &cmd, &v);
  if (had && !g_ota.transfer_active && c.ok && c.op == TR_OP_ROLLBACK) {
    // the rollback dropped the unfinished transfer (it writes the slot of the previous image)
    Claimed t{};
    t.ok = true;
    t.seq = before.seq;
    text16(before.transfer, t.transfer);
    refuse(t, &before, "transfer", "aborted by a rollback", nullptr);
  }
  if (rc != TR_OTA_ACCEPTED) {
    if (rc == TR_OTA_E_SELF_TEST) {
      boot_running();  // the self-test of the previous image overwrote the model buffer
      if (g_trial_reason[0]) {
        snprintf(v.reason, sizeof v.reason, "%.60s: %.190s", g_trial_stage, g_trial_reason);
      }
    }
    answer(c, "refused", v.stage && v.stage[0] ? v.stage : "command", v.reason,
           rc == TR_OTA_E_REPLAY ? &v : nullptr, nullptr);
    return;
  }
  char tid[17];
  text16(cmd.transfer, tid);
  switch (cmd.op) {
    case TR_OP_SYNC:
      if (tr_ota_sync(&g_ota, cmd.transfer) == TR_OTA_SYNC_BITMAP) {
        ack(tr_ota_complete(&g_ota) != 0, true);
      } else if (g_running && tr_ota_sync(&g_ota, cmd.transfer) == TR_OTA_SYNC_COMMITTED) {
        // committed and forgotten: its verdict again (the first one may have been cut off)
        committed(g_ota.image_seq, g_ota.image_transfer, g_ota.model, g_ota.version,
                  "committed before; the verdict again, in answer to a sync", false);
      } else {
        jbegin();
        jstr("transfer", tid);
        jbool("unknown", true);
        send(TR_FRAME_ACK);
      }
      break;
    case TR_OP_STATUS:
      status();
      break;
    case TR_OP_INFER: {
      tr_model_run run;
      char reason[300];
      jbegin();
      ju64("seq", cmd.seq);
      ju64("id", cmd.seq);
      jstr("model", running_model());
      jstr("version", running_version());
      if (!g_running || tr_model_infer(&run, reason, sizeof reason) != 0) {
        jstr("error", g_running ? reason : "no model running");
      } else {
        jms("latency_ms", run.inference_time);
        jstr("output_sha256", run.output_sha256);
        jstr("clock", kClock);
      }
      send(TR_FRAME_INFERENCE);
      break;
    }
    case TR_OP_ABORT:
      if (had && !g_ota.transfer_active) {
        Claimed t{};
        t.ok = true;
        t.seq = before.seq;
        text16(before.transfer, t.transfer);
        refuse(t, &before, "transfer", "aborted", nullptr);
        answer(c, "done", "command", nullptr, nullptr, nullptr);
      } else {
        answer(c, "done", "command", "no such transfer", nullptr, nullptr);
      }
      break;
    case TR_OP_ROTATE_KEY: {
      char key_id[17];
      tr_ota_key_id(g_ota.key, key_id);
      answer(c, "done", "command", nullptr, nullptr, key_id);
      status();
      break;
    }
    case TR_OP_ROLLBACK:
      // tr_ota_on_command self-tested the previous image (into g_trial) and committed it
      g_run = g_trial;
      g_running = true;
      g_last_error[0] = '\0';
      jbegin();
      ju64("seq", cmd.seq);
      jstr("op", "rollback");
      jstr("outcome", "done");
      jstr("stage", "rollback");
      jraw(",\"reason\":null");
      jstr("running", running_model());
      jstr("running_version", running_version());
      jstr("model", g_ota.model);
      jstr("version", g_ota.version);
      send_with_figures();
      status();
      break;
    default:
      answer(c, "refused", "command", "not implemented on this device", nullptr, nullptr);
      break;
  }
}

void on_frame(const tr_frame& f) {
  switch (f.kind) {
    case TR_FRAME_MANIFEST:
      on_manifest(f.payload, f.len);
      break;
    case TR_FRAME_COMMAND:
      on_command(f.payload, f.len);
      break;
    case TR_FRAME_CHUNK:
      on_chunk(f.payload, f.len);
      break;
    default:
      g_ota.rejected_messages++;  // a frame of no inbound kind
      break;
  }
}

}  // namespace

extern "C" int tr_serve(const tr_serve_config* cfg) {
  g_cfg = cfg;
  tr_frame_decoder_init(&g_dec);
  tr_ota_config oc{};
  oc.device_id = cfg->device;
  memcpy(oc.key, cfg->key, 32);
  oc.recovery_key = cfg->has_recovery_key ? cfg->recovery_key : nullptr;
  oc.runtime = "tflite-micro";
  oc.ram_bytes = cfg->ram_bytes;
  oc.ram_reserved = cfg->ram_reserved;
  oc.runtime_ram_overhead = cfg->runtime_ram_overhead;
  oc.chunk_buffer = 1024;
  oc.self_test = self_test;
  int64_t budget = static_cast<int64_t>(cfg->ram_bytes) - cfg->ram_reserved -
                   cfg->runtime_ram_overhead;
  g_arena = budget <= 0 ? 1u
            : budget > static_cast<int64_t>(TR_ARENA_MAX) ? TR_ARENA_MAX
                                                           : static_cast<uint32_t>(budget);
  int rc = tr_ota_init(&g_ota, &oc);
  if (rc != 0) {
    log_line("the OTA records cannot be read (%d)", rc);
    return 1;
  }
  if (cfg->slot_bytes && cfg->slot_bytes < g_ota.geom.image_max) {
    g_ota.geom.image_max = cfg->slot_bytes;  // the TD's slot, not the emulator's flash
  }
  tr_boot_choice choice;
  static tr_ota_after_boot after;
  rc = tr_ota_boot(&g_ota, &choice, &after);
  if (rc != 0) log_line("boot selection failed (%d)", rc);
  if (tr_ota_count_boot(&g_ota) != 0) log_line("the boot count cannot be written");
  if (after.outcome == TR_OTA_BOOT_RESUME) {
    // the chunks of its log are held; the deployer's sync (or manifest) gets the bitmap
    log_line("unfinished transfer kept: %lu of %lu chunks held",
             static_cast<unsigned long>(g_ota.received),
             static_cast<unsigned long>(g_ota.transfer.chunks));
  }
  boot_running();
  log_line("serving %s: %s", cfg->device, g_running ? g_ota.model : "no model");
  // the verdict of a commit the reset cut, for a deployer still waiting for it, then the status
  // (its new boot count tells a deployer still waiting to ask again: after the verdict, so that
  // a deployer that has its answer does not ask)
  const tr_ota_manifest& cut = after.transfer;
  Claimed c{};
  c.ok = true;
  c.seq = cut.seq;
  text16(cut.transfer, c.transfer);
  switch (after.outcome) {
    case TR_OTA_BOOT_COMPLETE:  // every chunk was held: the commit runs now
      log_line("complete transfer kept: committing it");
      g_transfer_start = tr_hal_clock_now();  // verified_s counts from this start-up
      finish("committed at the boot after a reset during the commit");
      break;
    case TR_OTA_BOOT_COMMITTED:
      committed(cut.seq, cut.transfer, cut.model, cut.version,
                "committed at the boot after a reset during the commit", false);
      status();
      break;
    case TR_OTA_BOOT_REVERTED:
      refuse(c, &cut, "commit",
             "the device was reset before it confirmed the image: it runs its previous model",
             nullptr);
      break;
    case TR_OTA_BOOT_SELF_TEST:
      refuse(c, &cut, g_trial_stage ? g_trial_stage : "self-test",
             g_trial_reason[0] ? g_trial_reason : "the image failed its self-test", nullptr);
      break;
    default:
      status();
      break;
  }
  uint8_t buf[64];
  for (;;) {
    int n = tr_hal_uart_read(buf, sizeof buf);
    if (n <= 0) {
      tr_hal_idle();
      continue;
    }
    for (int i = 0; i < n; i++) {
      tr_frame f;
      if (tr_frame_feed(&g_dec, buf[i], &f)) on_frame(f);
    }
  }
}
