// Tensor statistics and value printing for `dj run` (see TensorSummary.h).
#include "bindings/cli/TensorSummary.h"

#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

namespace dj {
namespace {

// Every element as a double (exact for all but very large 64-bit integers).
std::vector<double> to_doubles(const Tensor& tensor) {
  Tensor t = tensor.contiguous();
  std::vector<double> out(static_cast<size_t>(t.numel()));
  dispatch_dtype(t.dtype(), AllTypes{}, [&](auto tag) {
    using T = decltype(tag);
    using C = typename ComputeType<T>::type;
    const T* d = t.data<T>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<double>(static_cast<C>(d[i]));
  });
  return out;
}

void print_number(std::ostream& os, double v, bool integral) {
  if (integral) {
    os << static_cast<long long>(v);
  } else {
    std::ostringstream tmp;
    tmp.precision(6);
    tmp << v;
    os << tmp.str();
  }
}

// Prints dims [dim, rank) of the block starting at `offset`, stopping after `limit` values.
void print_block(std::ostream& os, const std::vector<double>& v, const Shape& shape, size_t dim, size_t offset,
                 size_t limit, size_t& printed, bool integral) {
  if (dim == shape.size()) {
    print_number(os, v[offset], integral);
    ++printed;
    return;
  }
  size_t inner = 1;
  for (size_t d = dim + 1; d < shape.size(); ++d) inner *= static_cast<size_t>(shape[d]);
  os << "[";
  for (int64_t i = 0; i < shape[dim]; ++i) {
    if (i) os << (dim + 1 == shape.size() ? ", " : ",\n" + std::string(dim + 1, ' '));
    if (limit && printed >= limit) {
      os << "...";
      break;
    }
    print_block(os, v, shape, dim + 1, offset + static_cast<size_t>(i) * inner, limit, printed, integral);
  }
  os << "]";
}

}  // namespace

std::string summarize_tensor(const Tensor& t) {
  std::vector<double> v = to_doubles(t);
  if (v.empty()) return "(no elements)";
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0;
  size_t finite = 0, nans = 0, infs = 0;
  for (double x : v) {
    if (std::isnan(x)) { ++nans; continue; }
    if (std::isinf(x)) { ++infs; continue; }
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    sum += x;
    ++finite;
  }
  std::ostringstream os;
  os.precision(6);
  if (finite) os << "min=" << lo << " max=" << hi << " mean=" << sum / static_cast<double>(finite);
  else os << "no finite values";
  if (nans) os << " nan=" << nans;
  if (infs) os << " inf=" << infs;
  return os.str();
}

std::string format_values(const Tensor& t, size_t limit) {
  std::vector<double> v = to_doubles(t);
  const bool integral = !dtype_is_float(t.dtype());
  std::ostringstream os;
  if (t.rank() == 0) {
    print_number(os, v[0], integral);
    return os.str();
  }
  size_t printed = 0;
  print_block(os, v, t.shape(), 0, 0, limit, printed, integral);
  return os.str();
}

}  // namespace dj
