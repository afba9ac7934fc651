// The REPL's JIT commands: specs, guards, code, steps, compile. Registered only when the
// JIT is built (DJ_HAVE_JIT); with DJ_JIT=off they say so.
#include <algorithm>
#include <cstdio>

#include "bindings/cli/CliCommands.h"
#include "bindings/cli/ReplSession.h"

#ifdef DJ_HAVE_JIT
#include "specializer/JitReport.h"
#if DJ_HAVE_CUDA
#include "specializer/GpuBackend.h"
#endif

namespace dj {
namespace {

Expected<specializer::Specializer*> jit_of(ReplSession& s) {
  if (!s.jit()) return Status(StatusCode::Unsupported, "the JIT is off (DJ_JIT=off)");
  return s.jit();
}

Status specs_command(ReplSession& s, const ReplArgs& args) {
  if (!args.empty()) return Status(StatusCode::InvalidArgument, "takes no arguments");
  DJ_ASSIGN_OR_RETURN(specializer::Specializer * jit, jit_of(s));
  jit->wait_idle();  // show what is in flight once it lands
  s.out() << specializer::format_specializations(*jit, s.interpreter().regions());
  return {};
}

Status guards_command(ReplSession& s, const ReplArgs& args) {
  if (args.size() != 1) return Status(StatusCode::InvalidArgument, "expected one region, like R0");
  DJ_ASSIGN_OR_RETURN(int32_t id, s.parse_region(args[0]));
  DJ_ASSIGN_OR_RETURN(specializer::Specializer * jit, jit_of(s));
  jit->wait_idle();
  s.out() << specializer::format_guards(*jit, s.interpreter().regions().region(id));
  return {};
}

// The specialization `arg` ("#N") of region `id`, or its newest.
Expected<std::shared_ptr<const specializer::SpecializedRegion>> pick_specialization(specializer::Specializer& jit,
                                                                                      int32_t id, const std::string* arg,
                                                                                      size_t* picked) {
  auto specs = jit.specializations(id);
  if (specs.empty())
    return make_error(StatusCode::InvalidArgument, "R", id, " has no specializations yet ('compile R", id,
                      " NAME=SHAPE' makes one)");
  size_t index = specs.size() - 1;
  if (arg) {
    auto n = parse_count((*arg)[0] == '#' ? std::string_view(*arg).substr(1) : std::string_view(*arg));
    if (!n || static_cast<size_t>(*n) >= specs.size())
      return make_error(StatusCode::InvalidArgument, "no specialization '", *arg, "' (R", id, " has #0..#",
                        specs.size() - 1, ")");
    index = static_cast<size_t>(*n);
  }
  if (picked) *picked = index;
  return std::shared_ptr<const specializer::SpecializedRegion>(specs[index]);
}

// Time per step of one specialization, slowest first (step timing is on in the REPL).
Status steps_command(ReplSession& s, const ReplArgs& args) {
  if (args.empty() || args.size() > 3)
    return Status(StatusCode::InvalidArgument, "expected a region, then optionally #N and how many steps to show");
  DJ_ASSIGN_OR_RETURN(int32_t id, s.parse_region(args[0]));
  DJ_ASSIGN_OR_RETURN(specializer::Specializer * jit, jit_of(s));
  jit->wait_idle();
  size_t index = 0;
  DJ_ASSIGN_OR_RETURN(auto spec, pick_specialization(*jit, id, args.size() > 1 ? &args[1] : nullptr, &index));
  size_t shown = 20;
  if (args.size() == 3) {
    auto n = parse_count(args[2]);
    if (!n || *n == 0) return make_error(StatusCode::InvalidArgument, "'", args[2], "' is not a count of steps");
    shown = static_cast<size_t>(*n);
  }
  auto times = spec->step_times();
  uint64_t total = 0, runs = 0;
  for (const auto& t : times) total += t.ns, runs = std::max(runs, t.runs);
  s.out() << spec->describe() << "\n";
  if (runs == 0) {
    s.out() << "no timed runs of #" << index << " yet (step timing starts with the REPL; 'run' or 'sweep' first)\n";
    return {};
  }
  std::vector<size_t> order(times.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return times[a].ns > times[b].ns; });
  char line[160];
  std::snprintf(line, sizeof line, "%zu steps, %llu timed runs, %.3f ms per run in all\n", times.size(),
                static_cast<unsigned long long>(runs), static_cast<double>(total) / 1e6 / static_cast<double>(runs));
  s.out() << line << "  step    mean us   share  what\n";
  for (size_t k = 0; k < order.size() && k < shown; ++k) {
    const auto& t = times[order[k]];
    std::snprintf(line, sizeof line, "  %4zu %10.2f  %5.1f%%  ", order[k],
                  t.runs ? static_cast<double>(t.ns) / 1e3 / static_cast<double>(t.runs) : 0.0,
                  total ? 100.0 * static_cast<double>(t.ns) / static_cast<double>(total) : 0.0);
    s.out() << line << t.what << "\n";
  }
  if (order.size() > shown) s.out() << "  (" << order.size() - shown << " more; 'steps R" << id << " #" << index << " N' shows N)\n";
  return {};
}

Status code_command(ReplSession& s, const ReplArgs& args) {
  if (args.empty() || args.size() > 3)
    return Status(StatusCode::InvalidArgument, "expected a region, then halide|llvm|asm|cuda|ptx, then optionally #N");
  DJ_ASSIGN_OR_RETURN(int32_t id, s.parse_region(args[0]));
  std::string what = args.size() > 1 ? args[1] : "halide";
  const bool gpu_listing = what == "cuda" || what == "ptx";
  if (what != "halide" && what != "llvm" && what != "asm" && what != "plan" && !gpu_listing)
    return make_error(StatusCode::InvalidArgument, "unknown listing '", what, "': halide, llvm, asm, cuda, ptx or plan");
  DJ_ASSIGN_OR_RETURN(specializer::Specializer * jit, jit_of(s));
  jit->wait_idle();
  size_t index = 0;
  DJ_ASSIGN_OR_RETURN(auto spec, pick_specialization(*jit, id, args.size() == 3 ? &args[2] : nullptr, &index));
  s.out() << spec->describe() << "\n" << spec->info().plan_text;
  if (what == "plan") return {};
  for (const auto& k : spec->kernels()) {
    if (k.gpu || gpu_listing) {
      if (!k.gpu || !gpu_listing)
        return make_error(StatusCode::InvalidArgument, "R", id, " #", index, " runs on ", spec->info().device,
                          ": its listings are ", k.gpu ? "cuda and ptx" : "halide, llvm and asm");
#if DJ_HAVE_CUDA
      const std::string& text = what == "cuda" ? k.gpu->source.source : k.gpu->binary.ptx;
      s.out() << "---- kernel " << k.gpu->spec.name << " (" << what << ")\n"
              << (text.empty() ? std::string("(no listing kept)\n") : text) << "\n";
#endif
      continue;
    }
    const jit::KernelListings& l = k.kernel->listings;
    const std::string& text = what == "halide" ? l.halide_stmt : what == "llvm" ? l.llvm_ir : l.assembly;
    s.out() << "---- kernel " << k.kernel->name << " (" << what << ")\n"
            << (text.empty() ? std::string("(no listing kept)\n") : text);
  }
  return {};
}

Status compile_command(ReplSession& s, const ReplArgs& args) {
  if (args.empty()) return Status(StatusCode::InvalidArgument, "expected a region, then the model's inputs");
  DJ_ASSIGN_OR_RETURN(int32_t id, s.parse_region(args[0]));
  DJ_ASSIGN_OR_RETURN(specializer::Specializer * jit, jit_of(s));
  // Run once on these inputs so the region sees its signature, then compile that one.
  std::string run_line = "run";
  for (size_t i = 1; i < args.size(); ++i) run_line += " " + args[i];
  DJ_RETURN_IF_ERROR(s.execute(run_line));
  RegionStats stats = s.tracer().region_stats(id);
  const SignatureStats* latest = nullptr;
  for (const SignatureStats& sig : stats.signatures)
    if (!latest || sig.last_seen > latest->last_seen) latest = &sig;
  if (!latest) return make_error(StatusCode::InvalidArgument, "R", id, " did not run on these inputs");
  DJ_ASSIGN_OR_RETURN(auto spec, jit->compile_now(id, latest->signature));
  s.out() << "compiled " << spec->describe() << "\n" << spec->info().plan_text;
  return {};
}

Status cache_command_in_repl(ReplSession& s, const ReplArgs& args) {
  if (!args.empty()) return Status(StatusCode::InvalidArgument, "takes no arguments");
  DJ_ASSIGN_OR_RETURN(specializer::Specializer * jit, jit_of(s));
  jit->wait_idle();
  if (!jit->has_cache()) return Status(StatusCode::Unsupported, "the code cache is off (DJ_CACHE=off, or its directory was refused)");
  specializer::SpecializationCache& cache = *jit->cache();
  auto entries = cache.model_entries();
  s.out() << entries.size() << " cached entries for this model (model " << cache.model_hex().substr(0, 12) << ") in "
          << cache.store_handle().dir() << "\n";
  for (const auto& e : entries) {
    size_t bytes = 0;
    for (const auto& o : e.entry.objects) bytes += o.bytes.size();
    s.out() << "  " << e.key.short_hex() << "  " << e.entry.description << "  " << e.entry.objects.size()
            << " kernels, " << bytes << " bytes, compiled in " << static_cast<int64_t>(e.entry.compile_ms) << " ms\n";
  }
  specializer::SpecializerStats st = jit->stats();
  s.out() << "this session: " << st.cache_hits << " loaded from the cache (" << st.warm_loaded << " at load), "
          << st.compiled << " compiled\n";
  return {};
}

}  // namespace

void register_jit_commands(ReplCommandTable& table) {
  table.add({"cache", "cache", "this model's entries in the on-disk code cache", "", cache_command_in_repl});
  table.add({"specs", "specs", "the compiled specializations per region: guards, kernels, compile time, hits", "",
             specs_command});
  table.add({"guards", "guards REGION", "the guards of a region's specializations, input by input", "",
             guards_command});
  table.add({"code", "code REGION [halide|llvm|asm|cuda|ptx|plan] [#N]",
             "a specialization's fusion plan and generated code (default: the newest, Halide IR)", "", code_command});
  table.add({"steps", "steps REGION [#N] [COUNT]",
             "time per kernel and per interpreted op of a specialization (default: the newest), slowest first", "",
             steps_command});
  table.add({"compile", "compile REGION [NAME=SHAPE ...]",
             "run once on these inputs, then compile REGION for the shape it saw (no waiting for hotness)", "",
             compile_command});
}

}  // namespace dj

#else

namespace dj {
void register_jit_commands(ReplCommandTable&) {}
}  // namespace dj

#endif
