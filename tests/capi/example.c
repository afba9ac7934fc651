/* example.c: a small host program in C that uses only dynajit.h.
 *
 * Usage: dj_example_c MODEL
 * Loads MODEL, lists its inputs and outputs, makes a random input for each input
 * (every symbolic dim set to 2), runs the model once and prints each output's
 * dtype, shape and first values. Exits 0 only if every step succeeded. Built as
 * C (not C++) so it also checks that the header is valid C.
 */
#include <dynajit.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kSymbolicDimSize = 2, kValuesShown = 8 };

static int fail(const char* what, dj_status status) {
  fprintf(stderr, "example: %s failed: %s: %s\n", what, dj_status_name(status), dj_last_error_message());
  return 1;
}

static void print_value_info(const dj_value_info* info) {
  printf("  %s: %s", info->name, dj_dtype_name(info->dtype));
  if (info->rank < 0) {
    printf(" (rank unknown)\n");
    return;
  }
  printf("[");
  for (int64_t d = 0; d < info->rank; ++d) {
    if (d) printf(",");
    if (info->dims[d].kind == DJ_DIM_CONSTANT) printf("%lld", (long long)info->dims[d].value);
    else printf("%s", info->dims[d].symbol);
  }
  printf("]\n");
}

/* A deterministic pseudo-random number in [0, 1) (xorshift64*). */
static double next_random(uint64_t* state) {
  *state ^= *state >> 12;
  *state ^= *state << 25;
  *state ^= *state >> 27;
  return (double)((*state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* IEEE binary16 bits for a float in the normal range (small values flush to 0). */
static uint16_t float_to_half_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
  int32_t exponent = (int32_t)((u >> 23) & 0xff) - 127 + 15;
  uint32_t mantissa = u & 0x7fffffu;
  if (exponent <= 0) return sign;
  if (exponent >= 31) return (uint16_t)(sign | 0x7c00u);
  return (uint16_t)(sign | (uint32_t)exponent << 10 | mantissa >> 13);
}

static float half_bits_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  uint32_t u;
  float f;
  if (exponent == 0) {
    f = (float)mantissa / 16777216.0f; /* subnormal: mantissa * 2^-24 */
    return sign ? -f : f;
  }
  if (exponent == 31) u = sign | 0x7f800000u | mantissa << 13;
  else u = sign | (exponent - 15 + 127) << 23 | mantissa << 13;
  memcpy(&f, &u, 4);
  return f;
}

/* Fills element i with a random value suited to the dtype: floats in [-1, 1),
 * integers in [0, 10), bools 0/1. */
static void fill_random(void* data, dj_dtype dtype, int64_t n, uint64_t* state) {
  for (int64_t i = 0; i < n; ++i) {
    double r = next_random(state);
    double real = 2.0 * r - 1.0;
    int64_t integer = (int64_t)(r * 10.0);
    switch (dtype) {
      case DJ_F32: ((float*)data)[i] = (float)real; break;
      case DJ_F64: ((double*)data)[i] = real; break;
      case DJ_F16: ((uint16_t*)data)[i] = float_to_half_bits((float)real); break;
      case DJ_BF16: {
        float f = (float)real;
        uint32_t u;
        memcpy(&u, &f, 4);
        ((uint16_t*)data)[i] = (uint16_t)(u >> 16);
        break;
      }
      case DJ_I64: ((int64_t*)data)[i] = integer; break;
      case DJ_I32: ((int32_t*)data)[i] = (int32_t)integer; break;
      case DJ_I16: ((int16_t*)data)[i] = (int16_t)integer; break;
      case DJ_I8: ((int8_t*)data)[i] = (int8_t)integer; break;
      case DJ_U64: ((uint64_t*)data)[i] = (uint64_t)integer; break;
      case DJ_U32: ((uint32_t*)data)[i] = (uint32_t)integer; break;
      case DJ_U16: ((uint16_t*)data)[i] = (uint16_t)integer; break;
      case DJ_U8: ((uint8_t*)data)[i] = (uint8_t)integer; break;
      case DJ_BOOL: ((uint8_t*)data)[i] = r < 0.5 ? 0 : 1; break;
      default: break;
    }
  }
}

static double element_as_double(const void* data, dj_dtype dtype, int64_t i) {
  switch (dtype) {
    case DJ_F32: return ((const float*)data)[i];
    case DJ_F64: return ((const double*)data)[i];
    case DJ_F16: return half_bits_to_float(((const uint16_t*)data)[i]);
    case DJ_BF16: {
      uint32_t u = (uint32_t)((const uint16_t*)data)[i] << 16;
      float f;
      memcpy(&f, &u, 4);
      return f;
    }
    case DJ_I64: return (double)((const int64_t*)data)[i];
    case DJ_I32: return ((const int32_t*)data)[i];
    case DJ_I16: return ((const int16_t*)data)[i];
    case DJ_I8: return ((const int8_t*)data)[i];
    case DJ_U64: return (double)((const uint64_t*)data)[i];
    case DJ_U32: return ((const uint32_t*)data)[i];
    case DJ_U16: return ((const uint16_t*)data)[i];
    case DJ_U8: return ((const uint8_t*)data)[i];
    case DJ_BOOL: return ((const uint8_t*)data)[i];
    default: return 0.0;
  }
}

static void print_tensor(const char* name, const dj_tensor* t) {
  size_t rank = dj_tensor_rank(t);
  const int64_t* shape = dj_tensor_shape(t);
  int64_t n = dj_tensor_numel(t);
  const void* data = dj_tensor_const_data(t);
  printf("  %s: %s[", name, dj_dtype_name(dj_tensor_dtype(t)));
  for (size_t d = 0; d < rank; ++d) printf(d ? ",%lld" : "%lld", (long long)shape[d]);
  printf("] = {");
  for (int64_t i = 0; i < n && i < kValuesShown; ++i) printf(i ? ", %g" : "%g", element_as_double(data, dj_tensor_dtype(t), i));
  printf(n > kValuesShown ? ", ...}\n" : "}\n");
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL.onnx\n", argv[0]);
    return 2;
  }
  printf("DynaJIT %s\n", dj_version());

  dj_load_options options;
  dj_load_options_init(&options);
  dj_model* model = NULL;
  dj_status status = dj_load(argv[1], &options, &model);
  if (status != DJ_OK) return fail("dj_load", status);

  size_t n_inputs = dj_model_num_inputs(model);
  size_t n_model_outputs = dj_model_num_outputs(model);
  const char** names = calloc(n_inputs ? n_inputs : 1, sizeof(const char*));
  dj_tensor** inputs = calloc(n_inputs ? n_inputs : 1, sizeof(dj_tensor*));
  dj_tensor** outputs = NULL;
  size_t n_outputs = 0;
  int exit_code = 1;
  uint64_t random_state = 0x9e3779b97f4a7c15ull;
  if (!names || !inputs) {
    fprintf(stderr, "example: out of memory\n");
    goto done;
  }

  printf("inputs:\n");
  for (size_t i = 0; i < n_inputs; ++i) {
    const dj_value_info* info = NULL;
    status = dj_model_input(model, i, &info);
    if (status != DJ_OK) {
      fail("dj_model_input", status);
      goto done;
    }
    print_value_info(info);
    if (info->rank < 0 || info->dtype == DJ_DTYPE_UNKNOWN) {
      fprintf(stderr, "example: input '%s' has no declared dtype or shape\n", info->name);
      goto done;
    }
    int64_t shape[64];
    if (info->rank > 64) {
      fprintf(stderr, "example: input '%s' has rank %lld\n", info->name, (long long)info->rank);
      goto done;
    }
    for (int64_t d = 0; d < info->rank; ++d)
      shape[d] = info->dims[d].kind == DJ_DIM_CONSTANT ? info->dims[d].value : kSymbolicDimSize;
    status = dj_tensor_create(info->dtype, shape, (size_t)info->rank, &inputs[i]);
    if (status != DJ_OK) {
      fail("dj_tensor_create", status);
      goto done;
    }
    fill_random(dj_tensor_data(inputs[i]), info->dtype, dj_tensor_numel(inputs[i]), &random_state);
    names[i] = info->name;
  }

  printf("declared outputs:\n");
  for (size_t i = 0; i < n_model_outputs; ++i) {
    const dj_value_info* info = NULL;
    status = dj_model_output(model, i, &info);
    if (status != DJ_OK) {
      fail("dj_model_output", status);
      goto done;
    }
    print_value_info(info);
  }

  status = dj_run(model, names, (const dj_tensor* const*)inputs, n_inputs, &outputs, &n_outputs);
  if (status != DJ_OK) {
    fail("dj_run", status);
    goto done;
  }
  printf("outputs:\n");
  for (size_t i = 0; i < n_outputs; ++i) {
    const dj_value_info* info = NULL;
    const char* name = dj_model_output(model, i, &info) == DJ_OK ? info->name : "?";
    print_tensor(name, outputs[i]);
  }
  if (n_outputs != n_model_outputs) {
    fprintf(stderr, "example: dj_run returned %zu outputs, the model declares %zu\n", n_outputs, n_model_outputs);
    goto done;
  }
  exit_code = 0;

done:
  dj_outputs_free(outputs, n_outputs);
  if (inputs)
    for (size_t i = 0; i < n_inputs; ++i) dj_tensor_free(inputs[i]);
  free(inputs);
  free((void*)names);
  dj_model_free(model);
  return exit_code;
}
