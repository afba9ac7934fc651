// Einsum: equation parsing, label bookkeeping, and contraction through batched
// matrix products (see LinalgEinsum.h).
//
// Labels are small integers: 'a'..'z' -> 0..25, 'A'..'Z' -> 26..51, and the dims an
// ellipsis stands for -> 52.. (right-aligned across operands, numpy style, so a
// shorter ellipsis broadcasts against a longer one). Operands are strided views in
// a work type W (float for f16/bf16/f32, the dtype itself otherwise); a view is
// copied only when a label group cannot be addressed with one stride.
#include "runtime/ops/LinalgEinsum.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include "runtime/ops/LinalgBatchedMatMul.h"

namespace dj {
namespace {

constexpr int kEllipsisBase = 52;
constexpr int kMaxLabels = 64;  // 52 letters + up to 12 ellipsis dims

int letter_label(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return 26 + (c - 'A');
  return -1;
}
char label_char(int l) { return l < 26 ? static_cast<char>('a' + l) : l < 52 ? static_cast<char>('A' + l - 26) : '.'; }
// Implicit output order: ascending character code (uppercase sorts before lowercase).
int label_sort_key(int l) { return static_cast<unsigned char>(label_char(l)); }

struct EinsumTerm {
  std::vector<int> letters;
  int ellipsis_at = -1;  // index into letters where "..." sits; -1 if none
};

Expected<EinsumTerm> parse_term(const std::string& eq, const std::string& text) {
  EinsumTerm t;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.') {
      if (text.compare(i, 3, "...") != 0 || t.ellipsis_at >= 0)
        return make_error(StatusCode::InvalidArgument, "Einsum: malformed ellipsis in equation '", eq, "'");
      t.ellipsis_at = static_cast<int>(t.letters.size());
      i += 2;
      continue;
    }
    const int l = letter_label(c);
    if (l < 0) return make_error(StatusCode::InvalidArgument, "Einsum: unexpected character '", c, "' in equation '", eq, "'");
    t.letters.push_back(l);
  }
  return t;
}

// Per-dim labels of a term applied to an operand of `rank` dims.
Expected<std::vector<int>> expand_term(const std::string& eq, const EinsumTerm& t, int64_t rank, int ell_rank,
                                       const char* what) {
  const int64_t n_ell = rank - static_cast<int64_t>(t.letters.size());
  if (t.ellipsis_at < 0 ? n_ell != 0 : n_ell < 0)
    return make_error(StatusCode::InvalidArgument, "Einsum: ", what, " has rank ", rank, " but its subscripts in '",
                      eq, "' name ", t.letters.size(), " dims", t.ellipsis_at >= 0 ? " plus an ellipsis" : "");
  std::vector<int> labels;
  for (int i = 0; i < static_cast<int>(t.letters.size()); ++i) {
    if (i == t.ellipsis_at)
      for (int64_t e = 0; e < n_ell; ++e) labels.push_back(kEllipsisBase + ell_rank - static_cast<int>(n_ell) + static_cast<int>(e));
    labels.push_back(t.letters[i]);
  }
  if (t.ellipsis_at == static_cast<int>(t.letters.size()))
    for (int64_t e = 0; e < n_ell; ++e) labels.push_back(kEllipsisBase + ell_rank - static_cast<int>(n_ell) + static_cast<int>(e));
  return labels;
}

struct EinsumPlan {
  std::vector<std::vector<int>> inputs;  // labels per dim of each input
  std::vector<int> output;               // labels per dim of the output
};

Expected<EinsumPlan> plan_einsum(const std::string& equation, const std::vector<int64_t>& ranks) {
  std::string eq;
  for (char c : equation)
    if (c != ' ') eq += c;
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<EinsumTerm> terms;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    DJ_ASSIGN_OR_RETURN(EinsumTerm t, parse_term(equation, lhs.substr(start, comma - start)));
    terms.push_back(std::move(t));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  DJ_CHECK(terms.size() == ranks.size(), InvalidArgument, "Einsum: equation '", equation, "' has ", terms.size(),
           " operands but the node has ", ranks.size(), " inputs");
  int ell_rank = 0;
  for (size_t i = 0; i < terms.size(); ++i)
    if (terms[i].ellipsis_at >= 0)
      ell_rank = std::max<int>(ell_rank, static_cast<int>(ranks[i] - static_cast<int64_t>(terms[i].letters.size())));
  DJ_CHECK(ell_rank <= kMaxLabels - kEllipsisBase, Unsupported, "Einsum: an ellipsis of ", ell_rank,
           " dims is not supported");

  EinsumPlan plan;
  int count[kMaxLabels] = {};
  for (size_t i = 0; i < terms.size(); ++i) {
    const std::string what = "input " + std::to_string(i);
    DJ_ASSIGN_OR_RETURN(std::vector<int> labels, expand_term(equation, terms[i], ranks[i], ell_rank, what.c_str()));
    for (int l : labels) ++count[l];
    plan.inputs.push_back(std::move(labels));
  }
  if (arrow != std::string::npos) {
    DJ_ASSIGN_OR_RETURN(EinsumTerm out, parse_term(equation, eq.substr(arrow + 2)));
    const int64_t out_rank = static_cast<int64_t>(out.letters.size()) + (out.ellipsis_at >= 0 ? ell_rank : 0);
    DJ_ASSIGN_OR_RETURN(plan.output, expand_term(equation, out, out_rank, ell_rank, "the output"));
  } else {
    for (int e = 0; e < ell_rank; ++e) plan.output.push_back(kEllipsisBase + e);
    std::vector<int> once;
    for (int l = 0; l < kEllipsisBase; ++l)
      if (count[l] == 1) once.push_back(l);
    std::sort(once.begin(), once.end(), [](int a, int b) { return label_sort_key(a) < label_sort_key(b); });
    plan.output.insert(plan.output.end(), once.begin(), once.end());
  }
  bool seen[kMaxLabels] = {};
  for (int l : plan.output) {
    DJ_CHECK(count[l] > 0, InvalidArgument, "Einsum: output label '", label_char(l), "' of '", equation,
             "' appears in no input");
    DJ_CHECK(!seen[l], InvalidArgument, "Einsum: output label '", label_char(l), "' repeats in '", equation, "'");
    seen[l] = true;
  }
  return plan;
}

// ---------------------------------------------------------------- strided operands

template <typename W>
struct Operand {
  std::vector<int> labels;  // unique
  Shape shape;
  Strides strides;
  const W* data = nullptr;
  std::shared_ptr<std::vector<W>> storage;  // set when this operand owns its data

  int dim_of(int label) const {
    for (size_t d = 0; d < labels.size(); ++d)
      if (labels[d] == label) return static_cast<int>(d);
    return -1;
  }
};

template <typename S>
using SumAccumulator = std::conditional_t<std::is_floating_point_v<typename ComputeType<S>::type>,
                                          typename ComputeType<S>::type, uint64_t>;

// dst (contiguous over `keep`) = sum over `sum` of src, where keep/sum give sizes and
// source strides. Converts S -> D on store (integers wrap).
template <typename D, typename S>
void gather_sum(const S* src, const Shape& keep_sizes, const Strides& keep_strides, const Shape& sum_sizes,
                const Strides& sum_strides, D* dst) {
  using Acc = SumAccumulator<S>;
  using SC = typename ComputeType<S>::type;
  using DC = typename ComputeType<D>::type;
  const int64_t n_out = shape_numel(keep_sizes);
  const int64_t n_sum = shape_numel(sum_sizes);
  if (n_out == 0) return;
  const int kr = static_cast<int>(keep_sizes.size());
  const int sr = static_cast<int>(sum_sizes.size());
  const int64_t inner = kr ? keep_sizes[kr - 1] : 1;
  const int64_t inner_stride = kr ? keep_strides[kr - 1] : 0;

  auto sum_at = [&](int64_t base) -> Acc {
    Acc acc{};
    if (n_sum == 0) return acc;
    if (sr == 0) return static_cast<Acc>(static_cast<SC>(src[base]));
    std::vector<int64_t> idx(static_cast<size_t>(sr), 0);
    const int64_t last = sum_sizes[sr - 1], last_stride = sum_strides[sr - 1];
    for (int64_t off = base;;) {
      for (int64_t s = 0; s < last; ++s) acc += static_cast<Acc>(static_cast<SC>(src[off + s * last_stride]));
      int d = sr - 2;
      for (; d >= 0; --d) {
        off += sum_strides[d];
        if (++idx[d] < sum_sizes[d]) break;
        off -= sum_strides[d] * idx[d];
        idx[d] = 0;
      }
      if (d < 0) return acc;
    }
  };
  // Rows: every keep index but the innermost.
  auto rows = [&](int64_t r0, int64_t r1) {
    std::vector<int64_t> idx(static_cast<size_t>(std::max(kr - 1, 0)), 0);
    int64_t off = 0;
    for (int64_t r = r0, d = kr - 2; d >= 0; --d) {
      idx[d] = r % keep_sizes[d];
      r /= keep_sizes[d];
      off += idx[d] * keep_strides[d];
    }
    for (int64_t r = r0; r < r1; ++r) {
      D* out = dst + r * inner;
      if (sr == 0) {
        for (int64_t j = 0; j < inner; ++j) out[j] = D(static_cast<DC>(static_cast<SC>(src[off + j * inner_stride])));
      } else {
        for (int64_t j = 0; j < inner; ++j) out[j] = D(static_cast<DC>(sum_at(off + j * inner_stride)));
      }
      for (int d = kr - 2; d >= 0; --d) {
        off += keep_strides[d];
        if (++idx[d] < keep_sizes[d]) break;
        off -= keep_strides[d] * idx[d];
        idx[d] = 0;
      }
    }
  };
  const int64_t n_rows = n_out / inner;
  if (n_out * std::max<int64_t>(n_sum, 1) < (1 << 16) || n_rows == 1) {
    rows(0, n_rows);
  } else {
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, n_rows),
                      [&](const tbb::blocked_range<int64_t>& r) { rows(r.begin(), r.end()); });
  }
}

// A contiguous copy of `op` holding the labels `keep` (in that order), summing the others.
template <typename W>
Operand<W> materialize(const Operand<W>& op, const std::vector<int>& keep) {
  Operand<W> out;
  Shape keep_sizes, sum_sizes;
  Strides keep_strides, sum_strides;
  for (int l : keep) {
    const int d = op.dim_of(l);
    keep_sizes.push_back(op.shape[d]);
    keep_strides.push_back(op.strides[d]);
  }
  for (size_t d = 0; d < op.labels.size(); ++d)
    if (std::find(keep.begin(), keep.end(), op.labels[d]) == keep.end()) {
      sum_sizes.push_back(op.shape[d]);
      sum_strides.push_back(op.strides[d]);
    }
  out.labels = keep;
  out.shape = keep_sizes;
  out.strides = contiguous_strides(keep_sizes);
  out.storage = std::make_shared<std::vector<W>>(static_cast<size_t>(shape_numel(keep_sizes)));
  gather_sum<W, W>(op.data, keep_sizes, keep_strides, sum_sizes, sum_strides, out.storage->data());
  out.data = out.storage->data();
  return out;
}

// The single stride that walks the dims of `labels` (in order) as one flattened
// index, or nullopt when their strides do not nest. Size-1 dims are ignored.
template <typename W>
std::optional<int64_t> group_stride(const Operand<W>& op, const std::vector<int>& labels) {
  int64_t stride = 1, expected = -1;
  for (auto it = labels.rbegin(); it != labels.rend(); ++it) {
    const int d = op.dim_of(*it);
    if (op.shape[d] == 1) continue;
    if (expected < 0) stride = op.strides[d];
    else if (op.strides[d] != expected) return std::nullopt;
    expected = op.strides[d] * op.shape[d];
  }
  return stride;
}

// The number of elements the dims of `labels` span in `op`.
template <typename W>
int64_t group_size(const Operand<W>& op, const std::vector<int>& labels) {
  int64_t n = 1;
  for (int l : labels) n *= op.shape[op.dim_of(l)];
  return n;
}

// x * y over their shared labels; the result holds batch labels (shared and kept),
// then x's free labels, then y's free labels.
template <typename W>
Expected<Operand<W>> contract(Operand<W> x, Operand<W> y, const bool* keep) {
  std::vector<int> batch, contracted, x_free, y_free;
  for (int l : x.labels) {
    if (y.dim_of(l) < 0) x_free.push_back(l);
    else if (keep[l]) batch.push_back(l);
    else contracted.push_back(l);
  }
  for (int l : y.labels)
    if (x.dim_of(l) < 0) y_free.push_back(l);
  for (int l : contracted)
    DJ_CHECK(x.shape[x.dim_of(l)] == y.shape[y.dim_of(l)], Unsupported, "Einsum: summed label '", label_char(l),
             "' has sizes ", x.shape[x.dim_of(l)], " and ", y.shape[y.dim_of(l)],
             " (broadcasting a summed label is not supported)");

  auto concat = [](std::vector<int> a, const std::vector<int>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  if (!group_stride(x, x_free) || !group_stride(x, contracted)) x = materialize(x, concat(concat(batch, x_free), contracted));
  if (!group_stride(y, contracted) || !group_stride(y, y_free)) y = materialize(y, concat(concat(batch, contracted), y_free));

  // Free and summed sizes come from the operands (a label may be 1 here and broadcast
  // later); a batch label takes the larger of its two sizes.
  const int64_t M = group_size(x, x_free), N = group_size(y, y_free), K = group_size(x, contracted);
  Shape batch_sizes;
  for (int l : batch) batch_sizes.push_back(std::max(x.shape[x.dim_of(l)], y.shape[y.dim_of(l)]));
  const int64_t batch_count = shape_numel(batch_sizes);
  std::vector<int64_t> x_off(static_cast<size_t>(batch_count)), y_off(static_cast<size_t>(batch_count));
  {
    // Odometer over the batch labels; a side whose dim is 1 stays put (broadcast).
    std::vector<int64_t> idx(batch.size(), 0);
    int64_t xo = 0, yo = 0;
    for (int64_t b = 0; b < batch_count; ++b) {
      x_off[b] = xo;
      y_off[b] = yo;
      for (int d = static_cast<int>(batch.size()) - 1; d >= 0; --d) {
        const int xd = x.dim_of(batch[d]), yd = y.dim_of(batch[d]);
        const int64_t xs = x.shape[xd] == 1 ? 0 : x.strides[xd], ys = y.shape[yd] == 1 ? 0 : y.strides[yd];
        xo += xs;
        yo += ys;
        if (++idx[d] < batch_sizes[d]) break;
        xo -= xs * idx[d];
        yo -= ys * idx[d];
        idx[d] = 0;
      }
    }
  }
  Operand<W> z;
  z.labels = concat(concat(batch, x_free), y_free);
  z.shape = batch_sizes;
  for (int l : x_free) z.shape.push_back(x.shape[x.dim_of(l)]);
  for (int l : y_free) z.shape.push_back(y.shape[y.dim_of(l)]);
  z.strides = contiguous_strides(z.shape);
  z.storage = std::make_shared<std::vector<W>>(static_cast<size_t>(shape_numel(z.shape)));
  z.data = z.storage->data();
  DJ_RETURN_IF_ERROR(batched_matmul(DTypeOf<W>::value, batch_count, M, N, K,
                                    {x.data, *group_stride(x, x_free), *group_stride(x, contracted), x_off.data()},
                                    {y.data, *group_stride(y, contracted), *group_stride(y, y_free), y_off.data()},
                                    z.storage->data()));
  return z;
}

template <typename T>
Status run_einsum(KernelContext& ctx, const EinsumPlan& plan) {
  using W = std::conditional_t<std::is_same_v<T, half> || std::is_same_v<T, bfloat16>, float, T>;
  const size_t n = plan.inputs.size();
  int64_t label_size[kMaxLabels];
  std::fill(label_size, label_size + kMaxLabels, int64_t{-1});
  std::vector<Operand<W>> ops(n);
  int uses[kMaxLabels] = {};
  for (size_t i = 0; i < n; ++i) {
    const Tensor& t = ctx.input(i);
    const Strides strides = contiguous_strides(t.shape());
    Operand<W>& op = ops[i];
    if constexpr (std::is_same_v<T, W>) {
      op.data = t.data<T>();
    } else {
      op.storage = std::make_shared<std::vector<W>>(static_cast<size_t>(t.numel()));
      const T* src = t.data<T>();
      for (int64_t e = 0; e < t.numel(); ++e) (*op.storage)[e] = static_cast<W>(src[e]);
      op.data = op.storage->data();
    }
    for (size_t d = 0; d < plan.inputs[i].size(); ++d) {
      const int l = plan.inputs[i][d];
      const int64_t size = t.shape()[d];
      const int existing = op.dim_of(l);
      if (existing >= 0) {  // a repeated label: the diagonal, one index stepping both dims
        DJ_CHECK(op.shape[existing] == size, InvalidArgument, "Einsum: label '", label_char(l),
                 "' repeats in input ", i, " over dims of sizes ", op.shape[existing], " and ", size);
        op.strides[existing] += strides[d];
        continue;
      }
      op.labels.push_back(l);
      op.shape.push_back(size);
      op.strides.push_back(strides[d]);
      ++uses[l];
      if (label_size[l] < 0 || label_size[l] == 1) {
        label_size[l] = size;
      } else {
        DJ_CHECK(size == 1 || size == label_size[l], InvalidArgument, "Einsum: label '", label_char(l),
                 "' has size ", size, " in input ", i, " but ", label_size[l], " elsewhere");
      }
    }
  }
  bool in_output[kMaxLabels] = {};
  for (int l : plan.output) in_output[l] = true;

  // Sum out, per operand, labels that nothing else needs.
  if (n > 1) {
    for (auto& op : ops) {
      std::vector<int> keep;
      for (int l : op.labels)
        if (in_output[l] || uses[l] > 1) keep.push_back(l);
      if (keep.size() != op.labels.size()) {
        for (int l : op.labels)
          if (!in_output[l] && uses[l] == 1) --uses[l];
        op = materialize(op, keep);
      }
    }
  }
  Operand<W> cur = ops[0];
  for (size_t i = 1; i < n; ++i) {
    bool keep[kMaxLabels];
    for (int l = 0; l < kMaxLabels; ++l) keep[l] = in_output[l];
    for (size_t j = i + 1; j < n; ++j)
      for (int l : ops[j].labels) keep[l] = true;
    DJ_ASSIGN_OR_RETURN(cur, contract(std::move(cur), ops[i], keep));
  }

  Shape out_shape, keep_strides, sum_sizes, sum_strides;
  for (int l : plan.output) {
    const int d = cur.dim_of(l);
    out_shape.push_back(label_size[l]);
    keep_strides.push_back(cur.shape[d] == 1 ? 0 : cur.strides[d]);
  }
  for (size_t d = 0; d < cur.labels.size(); ++d)
    if (!in_output[cur.labels[d]]) {
      sum_sizes.push_back(cur.shape[d]);
      sum_strides.push_back(cur.strides[d]);
    }
  Tensor& y = ctx.allocate_output(0, ctx.input(0).dtype(), out_shape);
  gather_sum<T, W>(cur.data, out_shape, keep_strides, sum_sizes, sum_strides, y.data<T>());
  return Status::ok_status();
}

}  // namespace

Status einsum_kernel(KernelContext& ctx) {
  DJ_CHECK(ctx.num_inputs() >= 1, InvalidArgument, "Einsum: needs at least one input");
  DJ_CHECK(ctx.node().has_attr("equation"), InvalidModel, "Einsum: missing the 'equation' attribute");
  const DType dtype = ctx.input(0).dtype();
  std::vector<int64_t> ranks;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    DJ_CHECK(ctx.has_input(i), InvalidArgument, "Einsum: input ", i, " is missing");
    DJ_CHECK(ctx.input(i).dtype() == dtype, InvalidArgument, "Einsum: input ", i, " is ",
             dtype_name(ctx.input(i).dtype()), " but input 0 is ", dtype_name(dtype));
    ranks.push_back(ctx.input(i).rank());
  }
  DJ_ASSIGN_OR_RETURN(EinsumPlan plan, plan_einsum(ctx.node().attr_string("equation", ""), ranks));
  Status status = make_error(StatusCode::Unsupported, "Einsum: dtype ", dtype_name(dtype), " is not supported");
  dispatch_dtype(dtype, NumericTypes{}, [&](auto tag) { status = run_einsum<decltype(tag)>(ctx, plan); });
  return status;
}

Status einsum_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  std::vector<int64_t> ranks;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.input_shape(i)) return Status::ok_status();
    ranks.push_back(static_cast<int64_t>(ctx.input_shape(i)->size()));
  }
  Expected<EinsumPlan> plan = plan_einsum(ctx.node().attr_string("equation", ""), ranks);
  if (!plan.ok()) return Status::ok_status();  // the kernel reports it with the real shapes
  SymShape out;
  for (int l : plan->output) {
    std::optional<SymExpr> size;
    for (size_t i = 0; i < ranks.size(); ++i)
      for (size_t d = 0; d < plan->inputs[i].size(); ++d) {
        if (plan->inputs[i][d] != l) continue;
        const SymExpr& s = (*ctx.input_shape(i))[d];
        if (!size || (size->is_const() && size->const_value() == 1)) size = s;
      }
    out.push_back(size ? *size : SymExpr(1));
  }
  ctx.set_output(0, std::nullopt, out);
  return Status::ok_status();
}

}  // namespace dj
