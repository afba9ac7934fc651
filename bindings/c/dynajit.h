/* dynajit.h: the C API of DynaJIT, the only header a host application includes.
 *
 * Load an ONNX model, ask what inputs and outputs it has, make tensors, run.
 *
 *   dj_model* m = NULL;
 *   if (dj_load("model.onnx", NULL, &m) != DJ_OK) { puts(dj_last_error_message()); ... }
 *   int64_t shape[2] = {4, 16};
 *   dj_tensor* x = NULL;
 *   dj_tensor_create(DJ_F32, shape, 2, &x);             // zero-filled; fill dj_tensor_data(x)
 *   const char* names[1] = {"x"};
 *   const dj_tensor* ins[1] = {x};
 *   dj_tensor** outs = NULL; size_t n_outs = 0;
 *   if (dj_run(m, names, ins, 1, &outs, &n_outs) == DJ_OK) { ...; dj_outputs_free(outs, n_outs); }
 *   dj_tensor_free(x);
 *   dj_model_free(m);
 *
 * Conventions (they hold for every function below):
 * - Fallible functions return a dj_status. On failure the out-parameters are set to
 *   NULL/0 and dj_last_error_message() says why, naming the cause (the input, the
 *   file, the op and node).
 * - No C++ exception and no abort ever crosses this API; bad input of any kind
 *   (NULL pointers, malformed files, wrong shapes) is an error status.
 * - Accessors that cannot fail (dj_tensor_rank, dj_model_num_inputs, ...) accept
 *   NULL and then return 0 / NULL.
 * - Every object you get from a dj_*_create / dj_load / dj_run is freed with its
 *   matching dj_*_free; the free functions accept NULL.
 * - Threads: a dj_model may be run from any number of threads at once. A dj_tensor
 *   may be read (e.g. passed as an input) by many threads at once, but not written
 *   while another thread reads it. The last error message is per thread.
 */
#ifndef DYNAJIT_H
#define DYNAJIT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Marks the exported functions, so the library may hide everything else. */
#if defined(__GNUC__)
#define DJ_API __attribute__((visibility("default")))
#else
#define DJ_API
#endif

/* C89 has no `inline`; C99 and C++ do. */
#if defined(__cplusplus) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L)
#define DJ_INLINE static inline
#elif defined(__GNUC__)
#define DJ_INLINE static __inline__
#else
#define DJ_INLINE static
#endif

#ifdef __cplusplus
#define DJ_NOEXCEPT noexcept
extern "C" {
#else
#define DJ_NOEXCEPT
#endif

/* ------------------------------------------------------------------ status */

/* Values equal dj::StatusCode (runtime/Status.h). */
typedef enum dj_status {
  DJ_OK = 0,
  DJ_ERR_INVALID_ARGUMENT = 1, /* the caller passed something wrong: NULL, name, dtype, rank, shape */
  DJ_ERR_INVALID_MODEL = 2,    /* the model file is malformed, truncated or inconsistent */
  DJ_ERR_UNSUPPORTED = 3,      /* an op, attribute, type or option DynaJIT does not implement */
  DJ_ERR_OUT_OF_MEMORY = 4,    /* memory could not be had (or the DJ_MAX_MEMORY_MB cap was reached) */
  DJ_ERR_IO = 5,               /* a file could not be opened or read */
  DJ_ERR_INTERNAL = 6,         /* a bug in DynaJIT; please report it with the message */
  DJ_STATUS_FORCE_INT32_ = 0x7fffffff /* not a status: keeps the enum int-sized */
} dj_status;

/* The message of the last call on this thread that failed, or "" if none has.
 * It is not cleared by calls that succeed. The pointer stays valid until the
 * next failing call on this thread. Never NULL. */
DJ_API const char* dj_last_error_message(void) DJ_NOEXCEPT;

/* A static name for a status: "ok", "invalid argument", ... ("unknown status" for
 * a value outside the enum). Never NULL. */
DJ_API const char* dj_status_name(dj_status status) DJ_NOEXCEPT;

/* The library version, "MAJOR.MINOR.PATCH". */
DJ_API const char* dj_version(void) DJ_NOEXCEPT;

/* ------------------------------------------------------------------ dtypes */

/* Element types; values equal dj::DType (runtime/DType.h). f16 is IEEE binary16
 * and bf16 is bfloat16, both stored as uint16_t bits; bool is one byte (0 or 1). */
typedef enum dj_dtype {
  DJ_DTYPE_UNKNOWN = -1, /* only in model introspection: the model does not say */
  DJ_F32 = 0,
  DJ_F64 = 1,
  DJ_F16 = 2,
  DJ_BF16 = 3,
  DJ_I64 = 4,
  DJ_I32 = 5,
  DJ_I16 = 6,
  DJ_I8 = 7,
  DJ_U64 = 8,
  DJ_U32 = 9,
  DJ_U16 = 10,
  DJ_U8 = 11,
  DJ_BOOL = 12,
  DJ_DTYPE_FORCE_INT32_ = 0x7fffffff /* not a dtype: makes any int a valid value, so bad ones can be refused */
} dj_dtype;

/* Bytes per element; 0 for a value that is not a dtype. */
DJ_API size_t dj_dtype_size(dj_dtype dtype) DJ_NOEXCEPT;
/* "f32", "i64", "bool", ...; "unknown" for DJ_DTYPE_UNKNOWN or a value outside the enum. */
DJ_API const char* dj_dtype_name(dj_dtype dtype) DJ_NOEXCEPT;

/* ------------------------------------------------------------------ tensors */

/* A typed, shaped n-d array in host memory: either owned by DynaJIT or borrowed
 * from the caller. Shapes and strides are int64_t arrays of `rank` entries;
 * strides are in elements. Rank 0 is a scalar (one element; `shape` may be NULL). */
typedef struct dj_tensor dj_tensor;

/* A new owned, contiguous (row-major) tensor, zero-filled. */
DJ_API dj_status dj_tensor_create(dj_dtype dtype, const int64_t* shape, size_t rank, dj_tensor** out) DJ_NOEXCEPT;

/* A new owned, contiguous tensor holding a copy of `data`, which holds
 * numel * dj_dtype_size(dtype) bytes in row-major order (`data` may be NULL only
 * when the tensor has no elements). */
DJ_API dj_status dj_tensor_create_copy(dj_dtype dtype, const int64_t* shape, size_t rank, const void* data,
                                       dj_tensor** out) DJ_NOEXCEPT;

/* A tensor viewing caller memory without copying it. `strides` (in elements, rank
 * entries) may be NULL for row-major contiguous data. The caller keeps `data`
 * alive and unchanged while the tensor, or a dj_run using it, is alive; DynaJIT
 * never writes through a borrowed input and never returns one as an output. */
DJ_API dj_status dj_tensor_borrow(dj_dtype dtype, const int64_t* shape, size_t rank, void* data,
                                  const int64_t* strides, dj_tensor** out) DJ_NOEXCEPT;

DJ_API void dj_tensor_free(dj_tensor* tensor) DJ_NOEXCEPT;

DJ_API dj_dtype dj_tensor_dtype(const dj_tensor* tensor) DJ_NOEXCEPT; /* DJ_DTYPE_UNKNOWN for NULL */
DJ_API size_t dj_tensor_rank(const dj_tensor* tensor) DJ_NOEXCEPT;
/* `rank` entries, valid while the tensor lives; NULL for a scalar or NULL tensor. */
DJ_API const int64_t* dj_tensor_shape(const dj_tensor* tensor) DJ_NOEXCEPT;
/* `rank` entries in elements, valid while the tensor lives; NULL for a scalar or NULL tensor. */
DJ_API const int64_t* dj_tensor_strides(const dj_tensor* tensor) DJ_NOEXCEPT;
DJ_API int64_t dj_tensor_numel(const dj_tensor* tensor) DJ_NOEXCEPT;
/* numel * dj_dtype_size(dtype): the size of the data when contiguous. */
DJ_API size_t dj_tensor_nbytes(const dj_tensor* tensor) DJ_NOEXCEPT;
/* 1 when the elements are packed in row-major order (always so for owned tensors). */
DJ_API int dj_tensor_is_contiguous(const dj_tensor* tensor) DJ_NOEXCEPT;
/* Pointer to element 0 (the caller's pointer for a borrowed tensor). Writing
 * through it is allowed for tensors you created and for outputs of dj_run. */
DJ_API void* dj_tensor_data(dj_tensor* tensor) DJ_NOEXCEPT;
DJ_API const void* dj_tensor_const_data(const dj_tensor* tensor) DJ_NOEXCEPT;

/* ------------------------------------------------------------------ models */

typedef struct dj_model dj_model;

/* Options for dj_load*. Always initialize with dj_load_options_init, then set the
 * fields you care about. Every default is zero. New fields are only ever
 * appended; `struct_size` tells the library which fields your copy of this header
 * knows, fields beyond it take their defaults, and a library older than your
 * header rejects (DJ_ERR_UNSUPPORTED) a non-zero field it does not know. */
typedef struct dj_load_options {
  size_t struct_size; /* sizeof(dj_load_options), set by dj_load_options_init */
  /* Threads the runs of this model may use for their parallel kernels.
   * 0: the default (TBB's: every core, shared with the rest of the process).
   * N > 0: all runs of this model together use at most N threads; when more host
   * threads than N run it at once, the extra ones wait their turn. */
  int32_t num_threads;
  /* Non-zero: never compile; every run is interpreted (as DJ_JIT=off does for the
   * whole process). 0: the JIT compiles hot regions in the background. */
  int32_t disable_jit;
  /* Where compiled code is cached on disk for this model; NULL: DJ_CACHE_DIR, else
   * $XDG_CACHE_HOME/dynajit or ~/.cache/dynajit (DJ_CACHE=off: no cache). The
   * directory must belong to you and not be group/world-writable (it holds
   * executable code); otherwise the cache is off, with a warning. Copied. */
  const char* cache_dir;
  /* Where compiled regions run: "cpu", "cuda" (an error, naming why, when no usable
   * GPU and driver are present) or "auto" (the GPU when usable, else the CPU; the
   * reason is logged at DJ_LOG=info). NULL: DJ_DEVICE, else "cpu". Runs start
   * interpreted on the host either way; hot regions are compiled for the device.
   * Copied. */
  const char* device;
} dj_load_options;

/* Sets every option to its default. NULL is ignored. Inline on purpose: the size
 * recorded is the one of the header the caller was compiled with. */
DJ_INLINE void dj_load_options_init(dj_load_options* options) {
  if (options) {
    memset(options, 0, sizeof *options);
    options->struct_size = sizeof *options;
  }
}

/* Loads an ONNX model from a file: binary ModelProto, or ONNX's textual syntax
 * when the file starts with '<' or "agraph". `options` may be NULL (defaults).
 * Errors: DJ_ERR_IO (cannot open/read, the path is named), DJ_ERR_INVALID_MODEL
 * (malformed or truncated), DJ_ERR_UNSUPPORTED (an op DynaJIT lacks, named with
 * its node). */
DJ_API dj_status dj_load(const char* path, const dj_load_options* options, dj_model** out) DJ_NOEXCEPT;

/* Like dj_load, from `size` bytes in memory (binary ModelProto, or textual syntax
 * by the same rule). The bytes are not needed after the call returns. */
DJ_API dj_status dj_load_from_memory(const void* data, size_t size, const dj_load_options* options,
                                     dj_model** out) DJ_NOEXCEPT;

/* Frees the model. No dj_run on it may be in progress. NULL is ignored. */
DJ_API void dj_model_free(dj_model* model) DJ_NOEXCEPT;

/* ------------------------------------------------------------------ introspection */

typedef enum dj_dim_kind {
  DJ_DIM_CONSTANT = 0,      /* a fixed size: `value` */
  DJ_DIM_SYMBOLIC = 1,      /* named by the model ("batch"), or an expression of such names ("seq*2") */
  DJ_DIM_DATA_DEPENDENT = 2 /* only known after running (e.g. the length of a NonZero result) */
} dj_dim_kind;

typedef struct dj_dim {
  dj_dim_kind kind;
  int64_t value;      /* the size for DJ_DIM_CONSTANT, else -1 */
  const char* symbol; /* NULL for DJ_DIM_CONSTANT, else the symbol or expression text */
} dj_dim;

/* What the model declares (inputs) or what load-time shape inference found
 * (outputs) about one value. Owned by the model: valid until dj_model_free. New
 * fields may be appended in later versions. */
typedef struct dj_value_info {
  const char* name;
  dj_dtype dtype;     /* DJ_DTYPE_UNKNOWN when not known */
  int64_t rank;       /* -1 when not known at load time */
  const dj_dim* dims; /* `rank` entries; NULL when rank <= 0 */
} dj_value_info;

DJ_API size_t dj_model_num_inputs(const dj_model* model) DJ_NOEXCEPT;
DJ_API size_t dj_model_num_outputs(const dj_model* model) DJ_NOEXCEPT;
/* Input/output `index` (in the model's order). DJ_ERR_INVALID_ARGUMENT for an index
 * out of range. */
DJ_API dj_status dj_model_input(const dj_model* model, size_t index, const dj_value_info** out) DJ_NOEXCEPT;
DJ_API dj_status dj_model_output(const dj_model* model, size_t index, const dj_value_info** out) DJ_NOEXCEPT;

/* ------------------------------------------------------------------ running */

/* Runs the model once. Inputs are given by name (input_names[i] names inputs[i]);
 * every model input must be given exactly once, with the declared dtype and rank,
 * constant dims equal to the model's, and each symbolic dim ("batch") the same
 * size wherever it appears. Any input may be non-contiguous or borrowed.
 *
 * On success *outputs is a new array of *n_outputs new tensors in the model's
 * output order, each owned, contiguous, and sharing no memory with the inputs, the
 * model, or the other outputs. The caller owns them: free all with
 * dj_outputs_free(*outputs, *n_outputs). To keep one beyond that, take it out of
 * the array (set its slot to NULL) and later free it with dj_tensor_free.
 *
 * Thread-safe: many threads may run one model at once, with their own inputs.
 * Errors: DJ_ERR_INVALID_ARGUMENT for inputs that do not fit (the message names the
 * input, what was expected and what was given), DJ_ERR_OUT_OF_MEMORY, and errors of
 * the run itself naming the node. */
DJ_API dj_status dj_run(dj_model* model, const char* const* input_names, const dj_tensor* const* inputs,
                        size_t n_inputs, dj_tensor*** outputs, size_t* n_outputs) DJ_NOEXCEPT;

/* Frees each non-NULL tensor in `outputs[0..n)` and then the array. NULL is ignored. */
DJ_API void dj_outputs_free(dj_tensor** outputs, size_t n) DJ_NOEXCEPT;

/* ------------------------------------------------------------------ statistics */

/* What the model has done so far, as a JSON object (UTF-8, NUL-terminated): the
 * number of runs; the model's regions (the units DynaJIT traces and compiles: runs
 * of ops between control flow and data-dependent shapes) with, per region, the
 * input shape signatures seen with counts and times, the If branch taken, Loop
 * trip counts, and for mixture-of-experts routers the rows sent to each expert.
 * The keys are documented in runtime/TraceReport.h. Tracing is on unless the
 * environment says DJ_TRACE=off ("tracing": false then, and no counts).
 * Safe to call while other threads run the model. Free the string with
 * dj_string_free. */
DJ_API dj_status dj_model_stats(const dj_model* model, char** json_out) DJ_NOEXCEPT;

/* Waits until the model's JIT has no compile queued or running, or `timeout_ms`
 * milliseconds passed (negative: no limit). `*idle_out` (may be NULL) is set to 1
 * when no compile is left, 0 on timeout. Compiles run in the background while runs
 * go on; freeing a model cancels its queued compiles. Call this before exiting when
 * the code cache (DJ_CACHE_DIR) should hold every specialization the runs asked
 * for, so the next process starts warm. With the JIT off it returns at once, idle. */
DJ_API dj_status dj_model_wait_for_compiles(dj_model* model, int64_t timeout_ms, int* idle_out) DJ_NOEXCEPT;

/* Frees a string returned by the library. NULL is ignored. */
DJ_API void dj_string_free(char* s) DJ_NOEXCEPT;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DYNAJIT_H */
