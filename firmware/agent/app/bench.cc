// Bench mode: verify a model, find the minimal arena TFLM accepts on this 32-bit core, count
// the instructions of model load and of one inference with every input at its zero point, and
// hash the outputs. One JSON line on stdout; TFLM's own messages go to stderr.
#include "bench.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <new>

#include "ops_list.h"
#include "sha256.h"
#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/compiler/mlir/lite/schema/schema_utils.h"
#include "tensorflow/lite/schema/schema_generated.h"
#include "tinyreg/hal.h"

extern "C" {
extern const uint8_t __vectors_start[], __vectors_end[], __text_start[], __text_end[];
extern const uint8_t __data_start[], __data_end[];
}

namespace {

// ---- static buffers (no allocation after start-up) ------------------------------------------

alignas(16) __attribute__((section(".noinit.model"))) uint8_t g_model[TR_MODEL_MAX];
alignas(16) __attribute__((section(".noinit.arena"))) uint8_t g_arena[TR_ARENA_MAX];
alignas(tflite::MicroInterpreter) uint8_t g_interpreter_storage[sizeof(tflite::MicroInterpreter)];

using Resolver = tflite::MicroMutableOpResolver<TR_REGISTERED_OP_COUNT>;
alignas(Resolver) uint8_t g_resolver_storage[sizeof(Resolver)];

// ---- TFLM's messages: to stderr, and the last ones kept for a refusal's reason --------------

char g_log[512];
size_t g_log_len;
bool g_log_echo = true;

// TFLM built for microcontrollers (TF_LITE_MCU_DEBUG_LOG) "aborts" by printing HALTED and
// spinning forever; a kernel does that when, at a too small arena, an allocation it did not
// check failed. During an attempt the agent jumps back out of that message instead: everything
// the interpreter made lives in the arena and in static storage, so nothing is left to undo.
jmp_buf* g_abort_target = nullptr;

// A fault during an attempt (a kernel reading through a pointer that a failed allocation left
// bad) abandons the attempt the same way; the HAL resumes thread mode here.
[[noreturn]] void on_fault() { longjmp(*g_abort_target, 2); }

void guard(jmp_buf* target) {
  g_abort_target = target;
  tr_hal_on_fault(target ? on_fault : nullptr);
}

void log_callback(const char* s) {
  // TFLM prefixes some messages with its source file's build path: keep it from the tree on
  static const char kTree[] = "third_party/tflite-micro/";
  if (const char* in_tree = strstr(s, kTree)) s = in_tree + sizeof kTree - 1;
  size_t n = strlen(s);
  if (g_log_echo) fputs(s, stderr);
  if (n >= sizeof g_log) {
    s += n - (sizeof g_log - 1);
    n = sizeof g_log - 1;
  }
  if (g_log_len + n >= sizeof g_log) g_log_len = 0;  // keep the latest messages
  memcpy(g_log + g_log_len, s, n);
  g_log_len += n;
  g_log[g_log_len] = '\0';
  if (g_abort_target && strncmp(s, "HALTED", 6) == 0) longjmp(*g_abort_target, 1);
}

void log_reset() {
  g_log_len = 0;
  g_log[0] = '\0';
}

bool log_says_shortage() {
  static const char* const kShortage[] = {"Failed to allocate", "missing", "too small",
                                          "Too many buffers", "Arena size"};
  for (const char* s : kShortage) {
    if (strstr(g_log, s)) return true;
  }
  return false;
}

// ---- JSON output ----------------------------------------------------------------------------

void json_string(const char* s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = static_cast<unsigned char>(*s);
    if (c == '"' || c == '\\') {
      putchar('\\');
      putchar(c);
    } else if (c < 0x20) {
      if (c == '\n' || c == '\r' || c == '\t') putchar(' '); else printf("\\u%04x", c);
    } else {
      putchar(c);
    }
  }
  putchar('"');
}

// newlib-nano's printf has no %llu
const char* u64(uint64_t v, char (&buf)[24]) {
  char* p = buf + sizeof buf - 1;
  *p = '\0';
  do {
    *--p = static_cast<char>('0' + v % 10u);
    v /= 10u;
  } while (v);
  return p;
}

struct Context {
  const char* path;
  const char* target;
  const char* core;
};

int refuse(const Context& ctx, const char* code, const char* reason) {
  printf("{\"target\":\"%s\",\"core\":\"%s\",\"model\":", ctx.target, ctx.core);
  json_string(ctx.path);
  printf(",\"refused\":\"%s\",\"reason\":", code);
  json_string(reason);
  printf("}\n");
  fflush(stdout);
  return 2;
}

// ---- the interpreter in static storage --------------------------------------------------------

struct Attempt {
  bool ok;
  size_t used;
};

tflite::MicroInterpreter* build(const tflite::Model* model, const Resolver& resolver,
                                size_t arena) {
  return new (g_interpreter_storage) tflite::MicroInterpreter(model, resolver, g_arena, arena);
}

bool g_verbose = false;

Attempt attempt(const tflite::Model* model, const Resolver& resolver, size_t arena) {
  if (g_verbose) fprintf(stderr, "attempt %lu\n", static_cast<unsigned long>(arena));
  log_reset();
  static jmp_buf aborted;
  static tflite::MicroInterpreter* interpreter;
  Attempt result{false, 0};
  guard(&aborted);
  if (setjmp(aborted) == 0) {
    interpreter = build(model, resolver, arena);
    result.ok = interpreter->AllocateTensors() == kTfLiteOk;
    if (result.ok) result.used = interpreter->arena_used_bytes();
  } else if (g_verbose) {
    fprintf(stderr, "the runtime aborted or faulted at arena %lu\n",
            static_cast<unsigned long>(arena));
  }
  guard(nullptr);
  // No destructor: everything the interpreter made lives in the arena or in its static
  // storage, which the next attempt overwrites, and after a failed AllocateTensors the
  // destructor would walk half-built kernel data.
  return result;
}

void fill_zero_point(TfLiteTensor* t) {
  const int32_t zp = t->params.zero_point;
  switch (t->type) {
    case kTfLiteInt8:
    case kTfLiteUInt8:
      memset(t->data.raw, zp, t->bytes);
      break;
    case kTfLiteInt16:
      for (size_t i = 0; i < t->bytes / 2; i++) t->data.i16[i] = static_cast<int16_t>(zp);
      break;
    case kTfLiteInt32:
      for (size_t i = 0; i < t->bytes / 4; i++) t->data.i32[i] = zp;
      break;
    default:  // float32 0.0 and every other type: all bits zero
      memset(t->data.raw, 0, t->bytes);
      break;
  }
}

struct Final {
  tflite::MicroInterpreter* interpreter;
  size_t used;
  uint64_t t0, t1, t2, t3;
};

// Load at `arena` (init), set every input to its zero point, one inference; clock readings
// around the load and the inference. Returns nullptr, or what failed.
const char* run_final(const tflite::Model* model, const Resolver& resolver, size_t arena,
                      Final* out) {
  static jmp_buf aborted;
  log_reset();
  guard(&aborted);
  if (setjmp(aborted) != 0) {
    guard(nullptr);
    return "the runtime aborted or faulted";
  }
  out->t0 = tr_hal_clock_now();
  out->interpreter = build(model, resolver, arena);
  TfLiteStatus status = out->interpreter->AllocateTensors();
  out->t1 = tr_hal_clock_now();
  if (status != kTfLiteOk) {
    guard(nullptr);
    return "the runtime refuses the model at its minimal arena";
  }
  out->used = out->interpreter->arena_used_bytes();
  for (size_t i = 0; i < out->interpreter->inputs_size(); i++) {
    fill_zero_point(out->interpreter->input(i));
  }
  out->t2 = tr_hal_clock_now();
  status = out->interpreter->Invoke();
  out->t3 = tr_hal_clock_now();
  guard(nullptr);
  return status == kTfLiteOk ? nullptr : "inference failed";
}

// Steps 2 and 3 of the bench: the flatbuffer verified before TFLM reads any of it, every operator
// registered. Returns nullptr and the model and resolver, or the refusal code with `reason`.
const char* check_model(uint32_t size, const tflite::Model** out_model, Resolver** out_resolver,
                        char* reason, size_t reason_len) {
  auto fail = [&](const char* code, const char* why) {
    if (why != reason) snprintf(reason, reason_len, "%s", why);
    return code;
  };
  // 2. Verify the flatbuffer before TFLM reads any of it.
  flatbuffers::Verifier verifier(g_model, size);
  if (size < 8 || !tflite::VerifyModelBuffer(verifier)) {
    return fail("mangled_flatbuffer",
                  "not a valid TFLite flatbuffer (the flatbuffers verifier refuses it)");
  }
  const tflite::Model* model = tflite::GetModel(g_model);
  if (model->version() != TFLITE_SCHEMA_VERSION) {
    snprintf(reason, reason_len, "schema version %lu, this runtime reads %d",
             static_cast<unsigned long>(model->version()), TFLITE_SCHEMA_VERSION);
    return fail("mangled_flatbuffer", reason);
  }
  if (!model->subgraphs() || model->subgraphs()->size() == 0 || !model->operator_codes()) {
    return fail("mangled_flatbuffer", "the model has no subgraph or operator codes");
  }

  // 3. Every operator registered?
  Resolver* resolver = new (g_resolver_storage) Resolver();
#define TR_REGISTER(name, method) resolver->method();
  TR_REGISTERED_OPS(TR_REGISTER)
#undef TR_REGISTER
  for (const tflite::OperatorCode* code : *model->operator_codes()) {
    if (!code) return fail("mangled_flatbuffer", "an empty operator code");
    tflite::BuiltinOperator op = tflite::GetBuiltinCode(code);
    if (op == tflite::BuiltinOperator_CUSTOM) {
      const char* name = code->custom_code() ? code->custom_code()->c_str() : "?";
      if (!resolver->FindOp(name)) {
        snprintf(reason, reason_len, "custom operator %s is not registered in this firmware",
                 name);
        return fail("unregistered_operator", reason);
      }
    } else if (!resolver->FindOp(op)) {
      const char* name = op >= tflite::BuiltinOperator_MIN && op <= tflite::BuiltinOperator_MAX
                             ? tflite::EnumNameBuiltinOperator(op)
                             : "";
      snprintf(reason, reason_len,
               "operator %s (builtin code %d) is not registered in this firmware",
               name[0] ? name : "?", static_cast<int>(op));
      return fail("unregistered_operator", reason);
    }
  }

  *out_model = model;
  *out_resolver = resolver;
  return nullptr;
}

bool g_loaded = false;

void output_hash(tflite::MicroInterpreter* interpreter, char out[65]) {
  uint8_t digest[32];
  tr_sha256_ctx sha;
  tr_sha256_init(&sha);
  for (size_t i = 0; i < interpreter->outputs_size(); i++) {
    const TfLiteTensor* t = interpreter->output(i);
    tr_sha256_update(&sha, t->data.raw, t->bytes);
  }
  tr_sha256_final(&sha, digest);
  tr_sha256_hex(digest, out);
}

}  // namespace

extern "C" void tr_bench_verbose(int on) { g_verbose = on != 0; }

extern "C" uint32_t tr_code_bytes(void) {
  return static_cast<uint32_t>((__vectors_end - __vectors_start) + (__text_end - __text_start) +
                               (__data_end - __data_start));
}

extern "C" int tr_bench_file(const char* path, uint32_t budget, const char* target,
                             const char* core) {
  const Context ctx{path, target, core};
  char reason[sizeof g_log + 200];
  RegisterDebugLogCallback(log_callback);
  if (budget == 0 || budget > TR_ARENA_MAX) {
    if (budget > TR_ARENA_MAX) {
      snprintf(reason, sizeof reason,
               "arena budget %lu bytes is larger than this firmware's static arena (%lu bytes)",
               static_cast<unsigned long>(budget), static_cast<unsigned long>(TR_ARENA_MAX));
      return refuse(ctx, "arena_over_budget", reason);
    }
    budget = TR_ARENA_MAX;
  }

  // 1. The file into the static model buffer.
  FILE* f = fopen(path, "rb");
  if (!f) return refuse(ctx, "io_error", "cannot open the model file");
  size_t size = fread(g_model, 1, sizeof g_model, f);
  bool more = fgetc(f) != EOF;
  fclose(f);
  if (more) {
    snprintf(reason, sizeof reason, "model larger than the model buffer (%lu bytes)",
             static_cast<unsigned long>(sizeof g_model));
    return refuse(ctx, "model_too_large", reason);
  }
  return tr_bench_loaded(static_cast<uint32_t>(size), budget, path, target, core);
}

extern "C" uint8_t* tr_model_buffer(uint32_t* capacity) {
  *capacity = sizeof g_model;
  return g_model;
}

extern "C" int tr_bench_loaded(uint32_t size, uint32_t budget, const char* path,
                               const char* target, const char* core) {
  const Context ctx{path, target, core};
  char reason[sizeof g_log + 200];
  RegisterDebugLogCallback(log_callback);
  if (budget == 0) budget = TR_ARENA_MAX;
  uint8_t digest[32];
  char model_sha[65];
  tr_sha256(g_model, size, digest);
  tr_sha256_hex(digest, model_sha);

  const tflite::Model* model = nullptr;
  Resolver* resolver = nullptr;
  if (const char* code = check_model(size, &model, &resolver, reason, sizeof reason)) {
    return refuse(ctx, code, reason);
  }

  // 4. The minimal arena: TFLM's own figure at the budget, then a search just around it.
  g_log_echo = g_verbose;
  Attempt first = attempt(model, *resolver, budget);
  if (!first.ok) {
    if (log_says_shortage()) {
      size_t need = 0;
      if (budget < TR_ARENA_MAX) {
        Attempt full = attempt(model, *resolver, TR_ARENA_MAX);
        if (full.ok) need = full.used;
      }
      if (need) {
        snprintf(reason, sizeof reason,
                 "arena over budget: the model needs at least %lu bytes, the budget is %lu",
                 static_cast<unsigned long>(need), static_cast<unsigned long>(budget));
      } else {
        snprintf(reason, sizeof reason, "arena over budget: the model needs more than %lu bytes",
                 static_cast<unsigned long>(budget));
      }
      return refuse(ctx, "arena_over_budget", reason);
    }
    snprintf(reason, sizeof reason, "the runtime refuses the model: %s", g_log);
    return refuse(ctx, "runtime_refused", reason);
  }
  unsigned attempts = 1;
  // Nothing much below TFLM's recorded total can work; start 64 bytes under it (alignment
  // slack) and gallop upwards to the first accepted size, then bisect.
  size_t bad = first.used > 64 ? first.used - 64 : 0;
  size_t good = budget;
  for (size_t step = 1; bad + step < good; step *= 2) {
    attempts++;
    if (attempt(model, *resolver, bad + step).ok) {
      good = bad + step;
      break;
    }
    bad += step;
  }
  while (good - bad > 1) {
    size_t mid = bad + (good - bad) / 2;
    attempts++;
    if (attempt(model, *resolver, mid).ok) good = mid; else bad = mid;
  }
  // Minimal means one byte less is refused; if it is not, the search goes on further down.
  while (good > 1) {
    attempts++;
    if (!attempt(model, *resolver, good - 1).ok) break;
    size_t lo = (good - 1) / 2;
    size_t hi = good - 1;
    while (hi - lo > 1) {
      size_t mid = lo + (hi - lo) / 2;
      attempts++;
      if (attempt(model, *resolver, mid).ok) hi = mid; else lo = mid;
    }
    good = hi;
  }
  const size_t arena = good;
  g_log_echo = true;

  // 5. Load at the minimal arena (init), set the inputs to their zero points, one inference.
  Final run;
  const char* failure = run_final(model, *resolver, arena, &run);
  if (failure) {
    snprintf(reason, sizeof reason, "%s: %s", failure, g_log);
    return refuse(ctx, strcmp(failure, "inference failed") == 0 ? "inference_failed"
                                                                 : "runtime_refused",
                  reason);
  }
  tflite::MicroInterpreter* interpreter = run.interpreter;
  const size_t used = run.used;
  const uint64_t t0 = run.t0, t1 = run.t1, t2 = run.t2, t3 = run.t3;
  tr_sha256_ctx sha;
  tr_sha256_init(&sha);
  for (size_t i = 0; i < interpreter->outputs_size(); i++) {
    const TfLiteTensor* out = interpreter->output(i);
    tr_sha256_update(&sha, out->data.raw, out->bytes);
  }
  char out_sha[65];
  tr_sha256_final(&sha, digest);
  tr_sha256_hex(digest, out_sha);

  printf("{\"target\":\"%s\",\"core\":\"%s\",\"model\":", target, core);
  json_string(path);
  printf(",\"model_bytes\":%lu,\"model_sha256\":\"%s\"", static_cast<unsigned long>(size),
         model_sha);
  printf(",\"arena_bytes\":%lu,\"arena_used_bytes\":%lu,\"arena_budget\":%lu,\"arena_attempts\":%u",
         static_cast<unsigned long>(arena), static_cast<unsigned long>(used),
         static_cast<unsigned long>(budget), attempts);
  char n1[24], n2[24];
  printf(",\"init_instructions\":%s,\"inference_instructions\":%s", u64(t1 - t0, n1),
         u64(t3 - t2, n2));
  printf(",\"clock\":");
  json_string(tr_hal_clock_kind());
  printf(",\"code_bytes\":%lu,\"output_sha256\":\"%s\"", static_cast<unsigned long>(tr_code_bytes()),
         out_sha);
  printf(",\"inputs\":%u,\"outputs\":%u}\n", static_cast<unsigned>(interpreter->inputs_size()),
         static_cast<unsigned>(interpreter->outputs_size()));
  fflush(stdout);
  return 0;
}

extern "C" int tr_model_load(uint32_t size, uint32_t arena, tr_model_run* out, const char** code,
                             char* reason, size_t reason_len) {
  g_loaded = false;
  RegisterDebugLogCallback(log_callback);
  g_log_echo = g_verbose;
  if (arena == 0 || arena > TR_ARENA_MAX) arena = TR_ARENA_MAX;
  const tflite::Model* model = nullptr;
  Resolver* resolver = nullptr;
  *code = check_model(size, &model, &resolver, reason, reason_len);
  if (*code) return -1;
  Final run;
  const char* failure = run_final(model, *resolver, arena, &run);
  if (failure) {
    bool shortage = log_says_shortage();
    *code = shortage ? "arena_over_budget"
                     : strcmp(failure, "inference failed") == 0 ? "inference_failed"
                                                                : "runtime_refused";
    if (shortage) {
      snprintf(reason, reason_len, "arena over budget: the model needs more than the %lu B "
               "of arena this device has", static_cast<unsigned long>(arena));
    } else {
      snprintf(reason, reason_len, "%s: %s", failure, g_log);
    }
    return -1;
  }
  out->arena_used_bytes = static_cast<uint32_t>(run.used);
  out->load_time = run.t1 - run.t0;
  out->inference_time = run.t3 - run.t2;
  output_hash(run.interpreter, out->output_sha256);
  g_loaded = true;
  return 0;
}

extern "C" int tr_model_infer(tr_model_run* out, char* reason, size_t reason_len) {
  if (!g_loaded) {
    snprintf(reason, reason_len, "no model running");
    return -1;
  }
  auto* interpreter = reinterpret_cast<tflite::MicroInterpreter*>(g_interpreter_storage);
  static jmp_buf aborted;
  guard(&aborted);
  if (setjmp(aborted) != 0) {
    guard(nullptr);
    g_loaded = false;
    snprintf(reason, reason_len, "the runtime aborted or faulted");
    return -1;
  }
  for (size_t i = 0; i < interpreter->inputs_size(); i++) fill_zero_point(interpreter->input(i));
  uint64_t t0 = tr_hal_clock_now();
  TfLiteStatus status = interpreter->Invoke();
  uint64_t t1 = tr_hal_clock_now();
  guard(nullptr);
  if (status != kTfLiteOk) {
    snprintf(reason, reason_len, "inference failed: %s", g_log);
    return -1;
  }
  out->inference_time = t1 - t0;
  output_hash(interpreter, out->output_sha256);
  return 0;
}

extern "C" void tr_model_unload(void) { g_loaded = false; }
