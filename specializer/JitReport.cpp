// JitReport: JSON and text views of a Specializer's work (see JitReport.h).
#include "specializer/JitReport.h"

#include <cstdio>
#include <sstream>

#if DJ_HAVE_CUDA
#include "specializer/GpuBackend.h"
#endif

namespace dj::specializer {
namespace {

// Where compiled regions run, and every copy between host and device.
struct DeviceTraffic {
  std::string device = "cpu";
  uint64_t uploads = 0, launches = 0, to_host = 0;
};

DeviceTraffic device_traffic(const Specializer& specializer) {
  DeviceTraffic t;
  t.to_host = specializer.interpreter().device_to_host_copies();
#if DJ_HAVE_CUDA
  if (const auto& gpu = specializer.options().gpu) {
    t.device = gpu->description();
    GpuTransferCounts c = gpu->counts();
    t.uploads = c.uploads;
    t.launches = c.launches;
    for (const Region& r : specializer.interpreter().regions().regions())
      for (const auto& spec : specializer.specializations(r.id)) t.to_host += spec->host_copies();
  }
#endif
  return t;
}

}  // namespace

void write_jit_json(JsonWriter& w, const Specializer& specializer, const RegionPlan& plan) {
  SpecializerStats s = specializer.stats();
  w.key("jit").begin_object();
  w.field("enabled", true);
  w.field("compiled", s.compiled);
  w.field("in_flight", static_cast<uint64_t>(specializer.compiles_in_flight()));
  w.field("compile_priority", jit::compile_priority_name(specializer.options().compile_priority));
  w.field("generic", s.generic);
  w.field("failed", s.failed);
  w.field("capped", s.capped);
  w.field("not_compilable", s.not_compilable);
  w.field("compile_ms", s.compile_ms);
  w.field("cache", specializer.has_cache());
  w.field("cache_hits", s.cache_hits);
  w.field("paths", s.paths);
  w.field("warm_loaded", s.warm_loaded);
  w.field("cache_load_ms", s.cache_load_ms);
  const DeviceTraffic traffic = device_traffic(specializer);
  w.field("device", traffic.device);
  w.field("device_uploads", traffic.uploads);
  w.field("device_launches", traffic.launches);
  w.field("device_to_host_copies", traffic.to_host);
  w.key("failures").begin_array();
  for (const std::string& f : specializer.recent_failures()) w.value(f);
  w.end_array();
  w.key("specializations").begin_array();
  for (const Region& r : plan.regions())
    for (const auto& spec : specializer.specializations(r.id)) {
      w.begin_object();
      w.field("region", r.label());
      w.field("guard", spec->guard_text());
      w.field("generic", spec->info().generic);
      w.field("device", spec->info().device);
      w.field("kernels", static_cast<uint64_t>(spec->info().kernels));
      w.field("shared_kernels", static_cast<uint64_t>(spec->info().shared_kernels));
      w.field("interpreted_ops", static_cast<uint64_t>(spec->info().interpreted_ops));
      w.field("compile_ms", spec->info().compile_ms);
      w.field("hits", spec->hits());
      if (spec->path()) {
        w.field("path", spec->info().path);
        w.field("path_runs", spec->path_runs());
        w.field("side_exits", spec->side_exits());
      }
      w.end_object();
    }
  w.end_array();
  w.end_object();
}

std::string format_specializations(const Specializer& specializer, const RegionPlan& plan) {
  std::ostringstream os;
  SpecializerStats s = specializer.stats();
  char line[320];
  std::snprintf(line, sizeof line, "%llu compiled, %llu failed, %llu capped (max %zu per region), %llu not compilable; %.1f ms compiling\n",
                static_cast<unsigned long long>(s.compiled), static_cast<unsigned long long>(s.failed),
                static_cast<unsigned long long>(s.capped), specializer.options().max_per_region,
                static_cast<unsigned long long>(s.not_compilable), s.compile_ms);
  os << line;
  if (const DeviceTraffic t = device_traffic(specializer); specializer.options().gpu) {
    std::snprintf(line, sizeof line, "device: %s; %llu kernel launches, %llu uploads, %llu copies back to the host\n",
                  t.device.c_str(), static_cast<unsigned long long>(t.launches),
                  static_cast<unsigned long long>(t.uploads), static_cast<unsigned long long>(t.to_host));
    os << line;
  }
  if (specializer.has_cache()) {
    std::snprintf(line, sizeof line, "code cache: %llu loaded instead of compiled (%llu at load, DJ_WARM_CACHE), %.1f ms loading\n",
                  static_cast<unsigned long long>(s.cache_hits), static_cast<unsigned long long>(s.warm_loaded),
                  s.cache_load_ms);
    os << line;
  } else {
    os << "code cache: off\n";
  }
  bool any = false;
  for (const Region& r : plan.regions()) {
    auto specs = specializer.specializations(r.id);
    if (specs.empty()) continue;
    any = true;
    os << r.label() << " (" << r.graph_path << ", " << r.num_nodes() << " ops): " << specs.size()
       << (specs.size() == 1 ? " specialization\n" : " specializations\n");
    for (size_t i = 0; i < specs.size(); ++i) {
      const auto& spec = specs[i];
      std::snprintf(line, sizeof line, "  #%zu  %-36s %-12s %2zu kernels (%2zu shared) %2zu interpreted ops  %8.1f ms compile  %8llu hits\n", i,
                    spec->guard_text().c_str(), spec->info().device.c_str(), spec->info().kernels, spec->info().shared_kernels, spec->info().interpreted_ops,
                    spec->info().compile_ms, static_cast<unsigned long long>(spec->hits()));
      os << line;
      if (spec->path())
        os << "      path " << spec->info().path << ": " << spec->path_runs() << " runs through, " << spec->side_exits()
           << " side exits\n";
    }
  }
  if (!any) os << "no specializations yet (regions compile once a signature has run DJ_JIT_THRESHOLD times)\n";
  for (const std::string& f : specializer.recent_failures()) os << "failed: " << f << "\n";
  return os.str();
}

std::string format_guards(const Specializer& specializer, const Region& region) {
  std::ostringstream os;
  auto specs = specializer.specializations(region.id);
  if (specs.empty()) return region.label() + " has no specializations, so no guards\n";
  os << region.label() << ": a run takes specialization #i when every input below matches exactly "
     << "(dtype, rank and each dim; checked as " << specs[0]->guard().size()
     << " integer compares after a hash compare); otherwise the next one, then the interpreter\n";
  for (size_t i = 0; i < specs.size(); ++i) {
    const SignatureWords& w = specs[i]->guard();
    os << "  #" << i << ":";
    size_t input = 0;
    for_each_signature_input(w.data(), w.size(), [&](const SignatureInput& in) {
      if (input >= region.inputs.size()) return false;
      os << "  " << region.graph->value(region.inputs[input++]).name << " ";
      if (!in.present) {
        os << "absent";
        return true;
      }
      os << dtype_name(in.dtype) << "[";
      for (size_t d = 0; d < in.rank; ++d) {
        const size_t at = in.dims_offset + d;
        os << (d ? "," : "");
        if (specs[i]->is_generic() && specs[i]->wildcard()[at])
          os << "any";
        else
          os << w[at];
      }
      os << "]";
      return true;
    });
    if (specs[i]->is_generic()) os << "   (generic tier: 'any' dims match any size >= 1)";
    os << "\n";
  }
  return os.str();
}

}  // namespace dj::specializer
