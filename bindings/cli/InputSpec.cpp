// Parsing of `dj run --input` and `--dim` arguments (see InputSpec.h).
#include "bindings/cli/InputSpec.h"

#include "bindings/cli/CliCommands.h"

#include <charconv>

namespace dj {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

Expected<Shape> parse_shape(std::string_view text) {
  if (text == "scalar") return Shape{};
  if (text.empty()) return make_error(StatusCode::InvalidArgument, "empty shape (write e.g. 1x16, or 'scalar')");
  Shape shape;
  size_t start = 0;
  while (true) {
    size_t x = text.find('x', start);
    std::string_view piece = text.substr(start, x == std::string_view::npos ? std::string_view::npos : x - start);
    auto dim = parse_count(piece);
    if (!dim)
      return make_error(StatusCode::InvalidArgument, "bad shape '", text, "': '", piece,
                        "' is not a non-negative integer (write e.g. 1x37x256, or 'scalar')");
    shape.push_back(*dim);
    if (x == std::string_view::npos) break;
    start = x + 1;
  }
  return shape;
}

Expected<InputSpec> parse_input_spec(std::string_view text) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0)
    return make_error(StatusCode::InvalidArgument, "bad --input '", text,
                      "': expected NAME=SHAPE[:DTYPE], NAME=:DTYPE or NAME=FILE.npy");
  InputSpec spec;
  spec.name = std::string(text.substr(0, eq));
  std::string_view value = text.substr(eq + 1);
  if (ends_with(value, ".npy")) {
    spec.npy_path = std::string(value);
    return spec;
  }
  size_t colon = value.rfind(':');
  std::string_view shape_text = value.substr(0, colon);
  if (colon != std::string_view::npos) {
    std::string_view dtype_text = value.substr(colon + 1);
    spec.dtype = dtype_from_name(dtype_text);
    if (!spec.dtype)
      return make_error(StatusCode::InvalidArgument, "bad --input '", text, "': unknown dtype '", dtype_text,
                        "' (use f32 f64 f16 bf16 i64 i32 i16 i8 u64 u32 u16 u8 bool)");
  }
  if (!shape_text.empty()) {
    auto shape = parse_shape(shape_text);
    if (!shape.ok()) return shape.status().with_context("--input '" + std::string(text) + "': ");
    spec.shape = std::move(shape).value();
  } else if (colon == std::string_view::npos) {
    return make_error(StatusCode::InvalidArgument, "bad --input '", text, "': no shape, dtype or .npy file after '='");
  }
  return spec;
}

Expected<std::pair<std::string, int64_t>> parse_dim_binding(std::string_view text) {
  size_t eq = text.find('=');
  auto value = eq == std::string_view::npos ? std::nullopt : parse_count(text.substr(eq + 1));
  if (eq == 0 || !value)
    return make_error(StatusCode::InvalidArgument, "bad --dim '", text, "': expected SYMBOL=N, e.g. batch=4");
  return std::make_pair(std::string(text.substr(0, eq)), *value);
}

}  // namespace dj
