// CachedKernels: text metadata for cached kernels (see CachedKernels.h).
#include "specializer/CachedKernels.h"

#include <sstream>

namespace dj::specializer {
namespace {

void write_shape(std::ostream& os, const Shape& s) {
  os << " " << s.size();
  for (int64_t d : s) os << " " << d;
}

bool read_shape(std::istream& is, Shape& s) {
  size_t rank = 0;
  if (!(is >> rank) || rank > 64) return false;
  s.resize(rank);
  for (auto& d : s)
    if (!(is >> d)) return false;
  return true;
}

Status malformed(const std::string& what) {
  return make_error(StatusCode::InvalidArgument, "cached kernel metadata is malformed (", what, ")");
}

}  // namespace

codecache::CacheObject kernel_to_cache_object(const LoweredGroup& g) {
  std::ostringstream os;
  os << "kind " << static_cast<int>(g.kind) << " generic " << (g.generic ? 1 : 0) << "\n";
  os << "inputs " << g.inputs.size();
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    os << " " << g.inputs[i];
    write_shape(os, g.input_views[i]);
  }
  os << "\noutput " << g.output;
  write_shape(os, g.output_view);
  write_shape(os, g.output_shape);
  const auto& args = g.kernel->signature.args;
  os << "\nargs " << args.size() << "\n";
  for (const auto& a : args)
    os << a.name << " " << static_cast<int>(a.kind) << " " << static_cast<int>(a.type.code) << " "
       << static_cast<int>(a.type.bits) << " " << a.type.lanes << " " << a.dimensions << "\n";
  codecache::CacheObject o;
  o.name = g.kernel->name;
  o.entry_symbol = g.kernel->entry_symbol;
  o.metadata = os.str();
  o.bytes = g.kernel->object;
  return o;
}

Expected<LoweredGroup> kernel_from_cache_object(const codecache::CacheObject& object, const std::string& target_key) {
  std::istringstream is(object.metadata);
  std::string word;
  LoweredGroup g;
  int kind = 0, generic = 0;
  if (!(is >> word >> kind) || word != "kind" || kind < 0 || kind > 4) return malformed("kind");
  if (!(is >> word >> generic) || word != "generic") return malformed("generic");
  g.kind = static_cast<GroupKind>(kind);
  g.generic = generic != 0;
  size_t n = 0;
  if (!(is >> word >> n) || word != "inputs" || n > 64) return malformed("inputs");
  g.inputs.resize(n);
  g.input_views.resize(n);
  for (size_t i = 0; i < n; ++i)
    if (!(is >> g.inputs[i]) || !read_shape(is, g.input_views[i])) return malformed("input");
  if (!(is >> word >> g.output) || word != "output" || !read_shape(is, g.output_view) || !read_shape(is, g.output_shape))
    return malformed("output");
  size_t nargs = 0;
  if (!(is >> word >> nargs) || word != "args" || nargs > 64) return malformed("args");
  jit::KernelSignature signature;
  for (size_t i = 0; i < nargs; ++i) {
    jit::KernelArg a;
    int akind = 0, code = 0, bits = 0, lanes = 0;
    if (!(is >> a.name >> akind >> code >> bits >> lanes >> a.dimensions) || akind < 0 || akind > 2)
      return malformed("arg");
    a.kind = static_cast<jit::KernelArg::Kind>(akind);
    a.type = halide_type_t(static_cast<halide_type_code_t>(code), static_cast<uint8_t>(bits), static_cast<uint16_t>(lanes));
    signature.args.push_back(std::move(a));
  }
  DJ_ASSIGN_OR_RETURN(jit::CompiledKernel kernel, jit::load_object(object.bytes, object.name, signature, target_key));
  g.kernel = std::make_shared<const jit::CompiledKernel>(std::move(kernel));
  return g;
}

std::string encode_entry_header(const EntryHeader& h) {
  std::ostringstream os;
  os << "region " << h.region << "\ngeneric " << (h.generic ? 1 : 0) << "\nsignature " << h.signature.size();
  for (int64_t w : h.signature) os << " " << w;
  os << "\n";
  return os.str();
}

Expected<EntryHeader> decode_entry_header(const std::string& text) {
  std::istringstream is(text);
  std::string word;
  EntryHeader h;
  int generic = 0;
  size_t n = 0;
  if (!(is >> word >> h.region) || word != "region") return malformed("region");
  if (!(is >> word >> generic) || word != "generic") return malformed("tier");
  if (!(is >> word >> n) || word != "signature" || n > 4096) return malformed("signature");
  h.generic = generic != 0;
  h.signature.resize(n);
  for (auto& w : h.signature)
    if (!(is >> w)) return malformed("signature word");
  return h;
}

}  // namespace dj::specializer
