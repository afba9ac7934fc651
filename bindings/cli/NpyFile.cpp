// .npy reading and writing (see NpyFile.h).
//
// The header is a Python dict literal, e.g.
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// We parse just the three keys NumPy always writes.
#include "bindings/cli/NpyFile.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace dj {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

Status bad_npy(const std::string& path, const std::string& why) {
  return make_error(StatusCode::InvalidArgument, path, ": not a valid .npy file: ", why);
}

// The text after `'key':` in the header dict, with leading spaces skipped.
std::optional<std::string_view> header_value(std::string_view header, std::string_view key) {
  for (char quote : {'\'', '"'}) {
    std::string quoted(1, quote);
    quoted.append(key);
    quoted.push_back(quote);
    size_t at = header.find(quoted);
    if (at == std::string_view::npos) continue;
    size_t colon = header.find(':', at + quoted.size());
    if (colon == std::string_view::npos) return std::nullopt;
    size_t start = header.find_first_not_of(" \t", colon + 1);
    if (start == std::string_view::npos) return std::nullopt;
    return header.substr(start);
  }
  return std::nullopt;
}

struct NpyDescr {
  DType dtype;
  bool big_endian;
};

Expected<NpyDescr> parse_descr(std::string_view text, const std::string& path) {
  if (text.empty() || (text[0] != '\'' && text[0] != '"')) return bad_npy(path, "'descr' is not a string");
  size_t end = text.find(text[0], 1);
  if (end == std::string_view::npos) return bad_npy(path, "'descr' is not terminated");
  std::string descr(text.substr(1, end - 1));
  if (descr.size() < 3) return bad_npy(path, "unknown dtype '" + descr + "'");
  char order = descr[0];
  if (order != '<' && order != '>' && order != '|' && order != '=')
    return bad_npy(path, "unknown byte order in dtype '" + descr + "'");
  std::string kind_size = descr.substr(1);
  struct Known { const char* code; DType dtype; };
  static const Known known[] = {
      {"f2", DType::F16}, {"f4", DType::F32}, {"f8", DType::F64}, {"i1", DType::I8},  {"i2", DType::I16},
      {"i4", DType::I32}, {"i8", DType::I64}, {"u1", DType::U8},  {"u2", DType::U16}, {"u4", DType::U32},
      {"u8", DType::U64}, {"b1", DType::Bool},
  };
  for (const Known& k : known)
    if (kind_size == k.code) return NpyDescr{k.dtype, order == '>'};
  return make_error(StatusCode::Unsupported, path, ": .npy dtype '", descr, "' is not supported (use one of f2 f4 f8 ",
                    "i1 i2 i4 i8 u1 u2 u4 u8 b1)");
}

Expected<Shape> parse_shape_tuple(std::string_view text, const std::string& path) {
  if (text.empty() || text[0] != '(') return bad_npy(path, "'shape' is not a tuple");
  size_t end = text.find(')');
  if (end == std::string_view::npos) return bad_npy(path, "'shape' is not terminated");
  Shape shape;
  std::string inner(text.substr(1, end - 1));
  std::replace(inner.begin(), inner.end(), ',', ' ');
  std::istringstream is(inner);
  std::string token;
  while (is >> token) {
    char* stop = nullptr;
    long long v = std::strtoll(token.c_str(), &stop, 10);
    if (*stop != '\0' && *stop != 'L') return bad_npy(path, "bad dim '" + token + "' in 'shape'");
    if (v < 0) return bad_npy(path, "negative dim in 'shape'");
    shape.push_back(v);
  }
  return shape;
}

void swap_bytes(void* data, size_t count, size_t element_size) {
  auto* p = static_cast<unsigned char*>(data);
  for (size_t i = 0; i < count; ++i, p += element_size) std::reverse(p, p + element_size);
}

}  // namespace

Expected<Tensor> parse_npy(const std::string& bytes, const std::string& path) {
  if (bytes.size() < kMagicSize + 4 || std::memcmp(bytes.data(), kMagic, kMagicSize) != 0)
    return bad_npy(path, "missing the \\x93NUMPY magic");
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
  const int major = u[6];
  size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = u[8] | (size_t{u[9]} << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return bad_npy(path, "truncated header");
    header_len = u[8] | (size_t{u[9]} << 8) | (size_t{u[10]} << 16) | (size_t{u[11]} << 24);
    header_start = 12;
  } else {
    return bad_npy(path, "unknown format version " + std::to_string(major));
  }
  if (bytes.size() < header_start + header_len) return bad_npy(path, "truncated header");
  std::string_view header(bytes.data() + header_start, header_len);

  auto descr_text = header_value(header, "descr");
  auto order_text = header_value(header, "fortran_order");
  auto shape_text = header_value(header, "shape");
  if (!descr_text || !order_text || !shape_text)
    return bad_npy(path, "the header lacks 'descr', 'fortran_order' or 'shape'");
  DJ_ASSIGN_OR_RETURN(NpyDescr descr, parse_descr(*descr_text, path));
  DJ_ASSIGN_OR_RETURN(Shape shape, parse_shape_tuple(*shape_text, path));
  bool fortran = order_text->substr(0, 4) == "True";

  const size_t data_start = header_start + header_len;
  const size_t es = dtype_size(descr.dtype);
  size_t count = 1, need = 0;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(count, static_cast<size_t>(d), &count)) return bad_npy(path, "'shape' is too large");
  if (__builtin_mul_overflow(count, es, &need)) return bad_npy(path, "'shape' is too large");
  if (bytes.size() - data_start < need)
    return bad_npy(path, "truncated data: shape " + shape_to_string(shape) + " needs " + std::to_string(need) +
                             " bytes, the file has " + std::to_string(bytes.size() - data_start));

  DJ_ASSIGN_OR_RETURN(Tensor t, Tensor::try_empty(descr.dtype, shape));
  if (need) std::memcpy(t.raw_data(), bytes.data() + data_start, need);
  if (descr.big_endian && es > 1) swap_bytes(t.raw_data(), count, es);
  if (fortran && shape.size() > 1) {
    // Column-major: view the same bytes with reversed strides, then pack row-major.
    Strides strides(shape.size());
    int64_t acc = 1;
    for (size_t d = 0; d < shape.size(); ++d) {
      strides[d] = acc;
      acc *= shape[d];
    }
    Tensor column_major = Tensor::borrow(t.raw_data(), t.dtype(), shape, strides, [keep = t] {});
    t = column_major.contiguous();
  }
  if (descr.dtype == DType::Bool) {
    // NumPy bools are 0/1, but normalize anyway: kernels may rely on it.
    auto* b = static_cast<unsigned char*>(t.raw_data());
    for (size_t i = 0; i < count; ++i) b[i] = b[i] ? 1 : 0;
  }
  return t;
}

Expected<Tensor> read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(StatusCode::IoError, "cannot open '", path, "': ", std::strerror(errno));
  std::stringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return make_error(StatusCode::IoError, "error reading '", path, "'");
  return parse_npy(buf.str(), path);
}

Status write_npy(const std::string& path, const Tensor& tensor) {
  Tensor t = tensor.contiguous();
  if (t.dtype() == DType::BF16) {
    Tensor f = Tensor::empty(DType::F32, t.shape());
    const bfloat16* src = t.data<bfloat16>();
    float* dst = f.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) dst[i] = static_cast<float>(src[i]);
    t = f;
  }
  const char* descr = nullptr;
  switch (t.dtype()) {
    case DType::F16: descr = "<f2"; break;
    case DType::F32: descr = "<f4"; break;
    case DType::F64: descr = "<f8"; break;
    case DType::I8: descr = "|i1"; break;
    case DType::I16: descr = "<i2"; break;
    case DType::I32: descr = "<i4"; break;
    case DType::I64: descr = "<i8"; break;
    case DType::U8: descr = "|u1"; break;
    case DType::U16: descr = "<u2"; break;
    case DType::U32: descr = "<u4"; break;
    case DType::U64: descr = "<u8"; break;
    case DType::Bool: descr = "|b1"; break;
    case DType::BF16: break;  // converted above
  }
  std::ostringstream h;
  h << "{'descr': '" << descr << "', 'fortran_order': False, 'shape': (";
  for (size_t d = 0; d < t.shape().size(); ++d) h << t.shape()[d] << (t.shape().size() == 1 ? "," : d + 1 < t.shape().size() ? ", " : "");
  h << "), }";
  std::string header = h.str();
  // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64.
  size_t total = kMagicSize + 4 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  if (header.size() > 65535) return make_error(StatusCode::InvalidArgument, path, ": .npy header too long");

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return make_error(StatusCode::IoError, "cannot write '", path, "': ", std::strerror(errno));
  out.write(kMagic, kMagicSize);
  const char version[2] = {1, 0};
  out.write(version, 2);
  const char len[2] = {static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
  out.write(len, 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(static_cast<const char*>(t.raw_data()), static_cast<std::streamsize>(t.nbytes()));
  out.close();
  if (!out) return make_error(StatusCode::IoError, "error writing '", path, "'");
  return {};
}

}  // namespace dj
