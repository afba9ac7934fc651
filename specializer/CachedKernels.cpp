// CachedKernels: text metadata for cached kernels (see CachedKernels.h).
#include "specializer/CachedKernels.h"

#include <map>
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

namespace {

codecache::CacheObject kernel_to_cache_object(const LoweredGroup& g, int object_in) {
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
  os << "object_in " << object_in << "\n";
  codecache::CacheObject o;
  o.name = g.kernel->name;
  o.entry_symbol = g.kernel->entry_symbol;
  o.metadata = os.str();
  if (object_in < 0 && g.kernel->object) o.bytes = *g.kernel->object;
  return o;
}

struct ParsedKernel {
  LoweredGroup group;
  jit::KernelSignature signature;
  int object_in = -1;
};

Expected<ParsedKernel> parse_kernel_metadata(const std::string& metadata) {
  std::istringstream is(metadata);
  std::string word;
  ParsedKernel parsed;
  LoweredGroup& g = parsed.group;
  int kind = 0, generic = 0;
  if (!(is >> word >> kind) || word != "kind" || kind < 0 || kind > static_cast<int>(GroupKind::Conv)) return malformed("kind");
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
  for (size_t i = 0; i < nargs; ++i) {
    jit::KernelArg a;
    int akind = 0, code = 0, bits = 0, lanes = 0;
    if (!(is >> a.name >> akind >> code >> bits >> lanes >> a.dimensions) || akind < 0 || akind > 2)
      return malformed("arg");
    a.kind = static_cast<jit::KernelArg::Kind>(akind);
    a.type = halide_type_t(static_cast<halide_type_code_t>(code), static_cast<uint8_t>(bits), static_cast<uint16_t>(lanes));
    parsed.signature.args.push_back(std::move(a));
  }
  if (!(is >> word >> parsed.object_in) || word != "object_in") return malformed("object_in");
  return parsed;
}

}  // namespace

std::vector<codecache::CacheObject> kernels_to_cache_objects(const std::vector<LoweredGroup>& kernels) {
  std::vector<codecache::CacheObject> objects;
  std::map<const void*, int> holder;  // object file -> the cache object carrying its bytes
  for (const LoweredGroup& g : kernels) {
    auto [it, fresh] = holder.emplace(g.kernel->object.get(), static_cast<int>(objects.size()));
    objects.push_back(kernel_to_cache_object(g, fresh ? -1 : it->second));
  }
  return objects;
}

Expected<std::vector<LoweredGroup>> kernels_from_cache_objects(const std::vector<codecache::CacheObject>& objects,
                                                               const std::string& target_key) {
  std::vector<ParsedKernel> parsed;
  for (size_t i = 0; i < objects.size(); ++i) {
    DJ_ASSIGN_OR_RETURN(ParsedKernel p, parse_kernel_metadata(objects[i].metadata));
    const bool holds_bytes = p.object_in < 0;
    if (holds_bytes ? objects[i].bytes.empty()
                    : (p.object_in >= static_cast<int>(i) || parsed[static_cast<size_t>(p.object_in)].object_in >= 0 ||
                       !objects[i].bytes.empty()))
      return malformed("object_in");
    parsed.push_back(std::move(p));
  }
  std::vector<LoweredGroup> out(objects.size());
  for (size_t holder = 0; holder < objects.size(); ++holder) {
    if (parsed[holder].object_in >= 0) continue;
    std::vector<size_t> members;
    std::vector<jit::KernelInObject> to_load;
    for (size_t i = holder; i < objects.size(); ++i) {
      if (i != holder && parsed[i].object_in != static_cast<int>(holder)) continue;
      // One kernel used by several groups is resolved once.
      bool seen = false;
      for (const auto& k : to_load) seen = seen || k.name == objects[i].name;
      if (!seen) to_load.push_back(jit::KernelInObject{objects[i].name, parsed[i].signature});
      members.push_back(i);
    }
    auto bytes = std::make_shared<const std::vector<uint8_t>>(objects[holder].bytes);
    DJ_ASSIGN_OR_RETURN(std::vector<jit::CompiledKernel> loaded, jit::load_object_kernels(bytes, to_load, target_key));
    std::vector<std::shared_ptr<const jit::CompiledKernel>> shared;
    for (auto& k : loaded) shared.push_back(std::make_shared<const jit::CompiledKernel>(std::move(k)));
    for (size_t i : members) {
      out[i] = std::move(parsed[i].group);
      for (const auto& k : shared)
        if (k->name == objects[i].name) out[i].kernel = k;
    }
  }
  return out;
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
