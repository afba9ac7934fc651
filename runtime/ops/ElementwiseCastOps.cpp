// Cast and CastLike: every DType pair, by the rules in ElementwiseCast.h.
// Strings (and other ONNX types DynaJIT has no DType for) are refused as
// Unsupported, naming the type.
#include <cstring>

#include "runtime/OpRegistry.h"
#include "runtime/ops/ElementwiseCast.h"
#include "runtime/ops/ElementwiseFamily.h"
#include "runtime/ops/ElementwiseKernel.h"
#include "runtime/ops/ElementwiseShapes.h"

namespace dj::elementwise {
namespace {

// onnx::TensorProto_DataType -> DType. The runtime does not depend on the ONNX
// headers, so the few codes are spelled out here.
std::optional<DType> dtype_from_onnx_code(int64_t code) {
  switch (code) {
    case 1: return DType::F32;
    case 2: return DType::U8;
    case 3: return DType::I8;
    case 4: return DType::U16;
    case 5: return DType::I16;
    case 6: return DType::I32;
    case 7: return DType::I64;
    case 9: return DType::Bool;
    case 10: return DType::F16;
    case 11: return DType::F64;
    case 12: return DType::U32;
    case 13: return DType::U64;
    case 16: return DType::BF16;
    default: return std::nullopt;
  }
}

const char* onnx_code_name(int64_t code) {
  switch (code) {
    case 8: return "string";
    case 14: return "complex64";
    case 15: return "complex128";
    case 0: return "undefined";
    default: return "unknown";
  }
}

Expected<DType> cast_target(const Node& node) {
  DJ_CHECK(node.has_attr("to"), InvalidModel, "Cast: attribute 'to' is missing");
  const int64_t code = node.attr_int("to", 0);
  auto t = dtype_from_onnx_code(code);
  DJ_CHECK(t.has_value(), Unsupported, "Cast: target type ", onnx_code_name(code), " (", code,
           ") is not supported");
  return *t;
}

Status cast_kernel(KernelContext& ctx) {
  DJ_RETURN_IF_ERROR(require_inputs(ctx, "Cast", 1));
  DJ_ASSIGN_OR_RETURN(DType to, cast_target(ctx.node()));
  ctx.set_output(0, cast_tensor(ctx.input(0), to));
  return Status();
}

Status cast_like_kernel(KernelContext& ctx) {
  DJ_RETURN_IF_ERROR(require_inputs(ctx, "CastLike", 2));
  ctx.set_output(0, cast_tensor(ctx.input(0), ctx.input(1).dtype()));
  return Status();
}

// Integer-to-integer casts keep symbolic element values (Shape -> Cast -> Reshape).
void forward_int_values(ShapeContext& ctx, DType to) {
  ValueInfo* out = ctx.output(0);
  auto from = ctx.input_dtype(0);
  if (!out || !from || dtype_is_float(*from) || *from == DType::Bool) return;
  if (!(dtype_is_signed_int(to) || dtype_is_unsigned_int(to))) return;
  // Narrowing could wrap; dims fit in 32 bits, which is as narrow as shape data gets.
  if (dtype_size(to) < 4) return;
  if (auto v = known_int_values(ctx.input(0))) out->sym_values = std::move(v);
}

Status infer_cast(ShapeContext& ctx) {
  auto to = dtype_from_onnx_code(ctx.node().attr_int("to", 0));
  ctx.set_output(0, to, ctx.input_shape(0));
  if (to) forward_int_values(ctx, *to);
  return Status();
}

Status infer_cast_like(ShapeContext& ctx) {
  auto to = ctx.input_dtype(1);
  ctx.set_output(0, to, ctx.input_shape(0));
  if (to) forward_int_values(ctx, *to);
  return Status();
}

}  // namespace

Tensor cast_tensor(const Tensor& x, DType to) {
  Tensor y = Tensor::empty(to, x.shape());
  const int64_t n = x.numel();
  if (x.dtype() == to) {
    if (n > 0) std::memcpy(y.raw_data(), x.raw_data(), x.nbytes());
    return y;
  }
  dispatch_dtype(x.dtype(), AllTypes{}, [&](auto from_tag) {
    using From = decltype(from_tag);
    dispatch_dtype(to, AllTypes{}, [&](auto to_tag) {
      using To = decltype(to_tag);
      const From* src = x.data<From>();
      To* dst = y.data<To>();
      parallel_ranges(n, kGrain, [&](int64_t begin, int64_t end) {
        const From* __restrict s = src + begin;
        To* __restrict d = dst + begin;
        for (int64_t i = 0; i < end - begin; ++i) d[i] = convert_value<To>(s[i]);
      });
    });
  });
  return y;
}

void register_cast_ops(OpRegistry& r) {
  r.add({"Cast", cast_kernel, infer_cast});
  r.add({"CastLike", cast_like_kernel, infer_cast_like});
}

}  // namespace dj::elementwise
