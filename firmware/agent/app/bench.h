/* Bench mode: run a model once on the target and report what the runtime needs. */
#ifndef TINYREG_BENCH_H
#define TINYREG_BENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Static buffers sized at build time (per core, through the board flags). */
#ifndef TR_MODEL_MAX
#define TR_MODEL_MAX (1024u * 1024u)
#endif
#ifndef TR_ARENA_MAX
#define TR_ARENA_MAX (1536u * 1024u)
#endif

/* Bench the model in `path` with at most `budget` bytes of arena (0: the whole static arena).
 * Prints one JSON line on stdout; returns 0 when measured, 2 when the model was refused. */
int tr_bench_file(const char *path, uint32_t budget, const char *target, const char *core);

/* The same for a model already in the static model buffer (tr_model_buffer). */
int tr_bench_loaded(uint32_t size, uint32_t budget, const char *label, const char *target,
                    const char *core);
uint8_t *tr_model_buffer(uint32_t *capacity);

/* The serve mode's running model: the image in the static model buffer (tr_model_buffer), checked
 * as the bench checks it (flatbuffers verifier, schema, every operator registered), loaded into a
 * MicroInterpreter with `arena` bytes of arena and run once with every input at its zero point.
 * Returns 0, or a refusal: `code` and `reason` say why (the interpreter is then gone). */
typedef struct {
  uint32_t arena_used_bytes;
  uint64_t load_time, inference_time; /* tr_hal_clock_now() units */
  char output_sha256[65];
} tr_model_run;
int tr_model_load(uint32_t size, uint32_t arena, tr_model_run *out, const char **code,
                  char *reason, size_t reason_len);
/* One more inference of the loaded model (zero-point inputs); -1 when none is loaded. */
int tr_model_infer(tr_model_run *out, char *reason, size_t reason_len);
/* Forget the loaded model (its buffer is about to be overwritten). */
void tr_model_unload(void);

/* Print every arena attempt on stderr. */
void tr_bench_verbose(int on);

/* Bytes of the firmware image a board keeps in flash: vectors, code, read-only data and the
 * initial values of .data (from the linker's symbols). */
uint32_t tr_code_bytes(void);

#ifdef __cplusplus
}
#endif

#endif
