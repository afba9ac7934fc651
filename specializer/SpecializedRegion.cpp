// SpecializedRegion: build (lower + compile each group, assign slots) and run.
#include "specializer/SpecializedRegion.h"

#include <chrono>
#include <set>
#include <sstream>
#include <unordered_map>

#include "runtime/OpRegistry.h"
#if DJ_HAVE_CUDA
#include "specializer/GpuBackend.h"
#endif

namespace dj::specializer {

Expected<std::shared_ptr<SpecializedRegion>> SpecializedRegion::build(const FusionPlan& plan, int64_t opset,
                                                                      const std::string& name_prefix,
                                                                      const LoweringOptions& options) {
  auto started = std::chrono::steady_clock::now();
  DJ_ASSIGN_OR_RETURN(std::vector<LoweredGroup> kernels, lower_plan(plan, name_prefix, options));
  auto built = build(plan, opset, [&](const FusionGroup& group, size_t index) -> Expected<LoweredGroup> {
    if (index >= kernels.size() || kernels[index].kind != group.kind)
      return Status(StatusCode::Internal, "lower_plan returned a different kernel list");
    return std::move(kernels[index]);
  });
  if (built.ok())
    (*built)->info_.compile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return built;
}

Expected<std::shared_ptr<SpecializedRegion>> SpecializedRegion::build(const FusionPlan& plan, int64_t opset,
                                                                      const KernelProvider& provider,
                                                                      std::shared_ptr<GpuBackend> gpu) {
  auto started = std::chrono::steady_clock::now();
  const Region& region = *plan.region;
  const Graph& g = *plan.graph;
  std::vector<bool> wildcard;
  if (plan.generic) {  // the symbolic dims of the declared input shapes match anything
    wildcard.assign(plan.signature.size(), false);
    size_t input = 0;
    for_each_signature_input(plan.signature.data(), plan.signature.size(), [&](const SignatureInput& in) {
      if (input >= region.inputs.size()) return false;
      const auto& declared = g.value(region.inputs[input++]).shape;
      for (size_t d = 0; d < in.rank; ++d)
        wildcard[in.dims_offset + d] = !declared || !(*declared)[d].is_const();
      return true;
    });
  }
  std::shared_ptr<SpecializedRegion> spec(new SpecializedRegion(plan.signature, std::move(wildcard)));
  spec->opset_ = opset;
  spec->gpu_ = std::move(gpu);
  std::unordered_map<ValueId, int32_t> slot_of;
  auto slot = [&](ValueId id) {
    auto [it, fresh] = slot_of.emplace(id, static_cast<int32_t>(slot_of.size()));
    return it->second;
  };
  for (ValueId id : region.inputs) spec->input_slots_.push_back(slot(id));
  // What is computed by the time a step runs: a kernel (e.g. one loaded from the
  // cache for another plan) must not read a value nothing before it produced.
  std::set<ValueId> available(region.inputs.begin(), region.inputs.end());
  auto readable = [&](ValueId id) { return available.count(id) || g.value(id).constant.defined(); };
  std::vector<int32_t> last_step;  // per slot
  auto note_use = [&](int32_t s, size_t step) {
    if (static_cast<size_t>(s) >= last_step.size()) last_step.resize(static_cast<size_t>(s) + 1, -1);
    last_step[static_cast<size_t>(s)] = static_cast<int32_t>(step);
  };
  for (const FusionGroup& group : plan.groups) {
    Step step;
    if (group.kind == GroupKind::Interpreted) {
      // A node the planner found to make only load-time constants that stay inside
      // the region needs no step: constants_ fills those slots. (One whose constant
      // leaves the region still runs: its fresh copy keeps callers from sharing the
      // model's tensor.)
      if (group.load_time_constant) continue;
      step.node = &g.nodes[static_cast<size_t>(group.nodes[0])];
      step.what = "interpreted " + step.node->op_type + (step.node->name.empty() ? "" : " '" + step.node->name + "'");
      for (ValueId id : step.node->inputs) step.in_slots.push_back(id == kNoValue ? -1 : slot(id));
      for (ValueId id : step.node->outputs) step.out_slots.push_back(id == kNoValue ? -1 : slot(id));
      available.insert(step.node->outputs.begin(), step.node->outputs.end());
      spec->info_.interpreted_ops += 1;
    } else {
      DJ_ASSIGN_OR_RETURN(LoweredGroup lowered, provider(group, spec->kernels_.size()));
      if (lowered.kind != group.kind || lowered.inputs.size() > 8 || (lowered.gpu != nullptr) != (spec->gpu_ != nullptr))
        return make_error(StatusCode::Internal, "kernel ", spec->kernels_.size(), " does not fit its group");
      for (ValueId id : lowered.inputs) {
        if (!readable(id))
          return make_error(StatusCode::Internal, "kernel ", spec->kernels_.size(), " reads '", g.value(id).name,
                            "', which nothing before it produces");
        step.in_slots.push_back(slot(id));
      }
      step.out_slots.push_back(slot(lowered.output));
      available.insert(lowered.output);
      step.kernel = static_cast<int>(spec->kernels_.size());
      step.what = "kernel " + std::to_string(step.kernel) + " " + group_kind_name(group.kind) + ":";
      for (int32_t n : group.nodes) step.what += " " + g.nodes[static_cast<size_t>(n)].op_type;
      spec->info_.shared_kernels += lowered.shared;
      spec->kernels_.push_back(std::move(lowered));
    }
    for (int32_t s : step.in_slots)
      if (s >= 0) note_use(s, spec->steps_.size());
    spec->steps_.push_back(std::move(step));
  }
  for (ValueId id : region.outputs) {
    auto it = slot_of.find(id);
    if (it == slot_of.end())
      return make_error(StatusCode::Internal, region.label(), ": output '", g.value(id).name, "' is never produced");
    spec->output_slots_.push_back(it->second);
    note_use(it->second, spec->steps_.size());  // outputs live to the end
  }
  for (const auto& [id, s] : slot_of)
    if (g.value(id).constant.defined()) spec->constants_.emplace_back(s, g.value(id).constant);
  for (size_t s = 0; s < last_step.size(); ++s)
    if (last_step[s] >= 0 && static_cast<size_t>(last_step[s]) < spec->steps_.size())
      spec->steps_[static_cast<size_t>(last_step[s])].free_after.push_back(static_cast<int32_t>(s));
  spec->num_slots_ = slot_of.size();
  spec->step_ns_ = std::make_unique<std::atomic<uint64_t>[]>(spec->steps_.size());
  spec->step_runs_ = std::make_unique<std::atomic<uint64_t>[]>(spec->steps_.size());
  if (spec->gpu_) DJ_RETURN_IF_ERROR(spec->upload_constants());
  spec->info_.region = region.id;
  spec->info_.generic = plan.generic;
  spec->info_.plan_text = plan.describe();
  spec->info_.kernels = spec->kernels_.size();
#if DJ_HAVE_CUDA
  if (spec->gpu_) spec->info_.device = "cuda sm_" + std::to_string(spec->gpu_->sm());
#endif
  spec->info_.compile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return spec;
}

namespace {
std::atomic<bool> g_step_timing{false};
}  // namespace

void SpecializedRegion::set_step_timing(bool on) { g_step_timing.store(on, std::memory_order_relaxed); }

std::vector<SpecializedRegion::StepTime> SpecializedRegion::step_times() const {
  std::vector<StepTime> out;
  for (size_t i = 0; i < steps_.size(); ++i)
    out.push_back({steps_[i].what, step_runs_[i].load(std::memory_order_relaxed), step_ns_[i].load(std::memory_order_relaxed)});
  return out;
}

Status SpecializedRegion::run(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs) const {
  if (inputs.size() != input_slots_.size())
    return make_error(StatusCode::Internal, "specialized region expects ", input_slots_.size(), " inputs, got ",
                      inputs.size());
  std::vector<Tensor> slots(num_slots_);
  for (size_t i = 0; i < inputs.size(); ++i) slots[static_cast<size_t>(input_slots_[i])] = inputs[i];
  for (const auto& [s, t] : constants_) slots[static_cast<size_t>(s)] = t;
  const bool timing = g_step_timing.load(std::memory_order_relaxed);
  for (size_t step_index = 0; step_index < steps_.size(); ++step_index) {
    const Step& step = steps_[step_index];
    const auto started = timing ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    if (step.kernel >= 0 && gpu_) {
      DJ_RETURN_IF_ERROR(run_gpu_kernel(kernels_[static_cast<size_t>(step.kernel)], step, slots));
    } else if (step.kernel >= 0) {
      const LoweredGroup& k = kernels_[static_cast<size_t>(step.kernel)];
      Tensor views[8];
      if (k.inputs.size() > 8) return Status(StatusCode::Internal, "too many kernel inputs");
      const std::vector<Shape>* input_views = &k.input_views;
      const Shape* output_view = &k.output_view;
      const Shape* output_shape = &k.output_shape;
      std::vector<Shape> run_views;
      Shape run_output_view, run_output_shape;
      if (k.generic) {  // this run's shapes
        std::vector<Tensor> actual;
        for (int32_t s : step.in_slots) actual.push_back(slots[static_cast<size_t>(s)]);
        DJ_RETURN_IF_ERROR(generic_views(k, actual, run_views, run_output_view, run_output_shape));
        input_views = &run_views;
        output_view = &run_output_view;
        output_shape = &run_output_shape;
      }
      for (size_t i = 0; i < k.inputs.size(); ++i) {
        // Exact kernels carry no Halide asserts (GroupLowering.h): the element count
        // and a contiguous layout checked here are what makes the view the kernel's shape.
        const Tensor& t = slots[static_cast<size_t>(step.in_slots[i])];
        const Shape& view = (*input_views)[i];
        if (!t.defined() || t.numel() != shape_numel(view))
          return make_error(StatusCode::Internal, "kernel ", step.kernel, " input ", i, ": ",
                            t.defined() ? t.describe() : std::string("undefined"), " does not fit its view ",
                            shape_to_string(view));
        views[i] = t.shape() == view && t.is_contiguous() ? t : t.reshaped(view);
      }
      Tensor out = Tensor::empty(DType::F32, *output_view);
      DJ_RETURN_IF_ERROR(k.kernel->run(std::span<const Tensor>(views, k.inputs.size()), std::span<const Tensor>(&out, 1)));
      slots[static_cast<size_t>(step.out_slots[0])] = *output_view == *output_shape ? out : out.reshaped(*output_shape);
    } else {
      const Node& node = *step.node;
      std::vector<Tensor> in;
      in.reserve(step.in_slots.size());
      for (int32_t s : step.in_slots) {
        Tensor t = s < 0 ? Tensor() : slots[static_cast<size_t>(s)];
        if (t.defined() && !t.on_host()) {  // a GPU kernel's output, read by a reference kernel
          DJ_ASSIGN_OR_RETURN(t, t.to_host());
          host_copies_.fetch_add(1, std::memory_order_relaxed);
        }
        in.push_back(std::move(t));
      }
      KernelContext ctx(node, opset_, std::move(in), nullptr);
      if (Status st = node.schema->kernel(ctx); !st.ok())
        return st.with_context(node.describe() + ": ");  // build the message only on failure
      for (size_t i = 0; i < step.out_slots.size(); ++i)
        if (step.out_slots[i] >= 0) slots[static_cast<size_t>(step.out_slots[i])] = std::move(ctx.outputs()[i]);
    }
    for (int32_t s : step.free_after) slots[static_cast<size_t>(s)] = Tensor();
    if (timing) {
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started);
      step_ns_[step_index].fetch_add(static_cast<uint64_t>(ns.count()), std::memory_order_relaxed);
      step_runs_[step_index].fetch_add(1, std::memory_order_relaxed);
    }
  }
  outputs.clear();
  for (int32_t s : output_slots_) outputs.push_back(slots[static_cast<size_t>(s)]);
  return {};
}

// Weights read only by GPU kernels go to the device once, here, not on every run.
Status SpecializedRegion::upload_constants() {
#if DJ_HAVE_CUDA
  std::vector<bool> read_on_host(num_slots_, false);
  for (const Step& step : steps_)
    if (step.kernel < 0)
      for (int32_t s : step.in_slots)
        if (s >= 0) read_on_host[static_cast<size_t>(s)] = true;
  for (int32_t s : output_slots_) read_on_host[static_cast<size_t>(s)] = true;
  bool uploaded = false;
  for (auto& [s, t] : constants_) {
    if (read_on_host[static_cast<size_t>(s)] || t.dtype() != DType::F32) continue;
    DJ_ASSIGN_OR_RETURN(t, gpu_->upload(t));
    uploaded = true;
  }
  if (uploaded) DJ_RETURN_IF_ERROR(gpu_->synchronize());
#endif
  return {};
}

Status SpecializedRegion::run_gpu_kernel(const LoweredGroup& k, const Step& step, std::vector<Tensor>& slots) const {
#if DJ_HAVE_CUDA
  std::vector<Tensor> actual;
  for (int32_t s : step.in_slots) {
    Tensor& t = slots[static_cast<size_t>(s)];
    if (t.on_host()) {  // a region input or an interpreted op's output: upload once, keep the device copy
      DJ_ASSIGN_OR_RETURN(t, gpu_->upload(t));
    }
    actual.push_back(t);
  }
  std::vector<Shape> input_views = k.input_views;
  Shape output_view = k.output_view, output_shape = k.output_shape;
  if (k.generic) DJ_RETURN_IF_ERROR(generic_views(k, actual, input_views, output_view, output_shape));
  DJ_ASSIGN_OR_RETURN(Tensor out, gpu_->allocate(DType::F32, output_view));
  if (out.numel() > 0) {
    DjKernelParams params{};
    DJ_RETURN_IF_ERROR(jit::cuda::fill_params(k.gpu->spec, input_views, output_view, params));
    for (size_t i = 0; i < actual.size(); ++i) params.in[i] = static_cast<const float*>(actual[i].raw_data());
    params.out = out.data<float>();
    DJ_RETURN_IF_ERROR(gpu_->launch(*k.gpu, jit::cuda::launch_dims(k.gpu->spec, params), params));
  }
  slots[static_cast<size_t>(step.out_slots[0])] = output_view == output_shape ? out : out.reshaped(output_shape);
  return {};
#else
  return Status(StatusCode::Unsupported, "this build has no CUDA support");
#endif
}

void SpecializedRegion::attach_path(PathTail tail) {
  std::ostringstream os;
  os << "through If '" << tail.if_node->name << "' into " << (tail.branch == 0 ? "then_branch" : "else_branch")
     << " (" << tail.body->label() << ": " << (tail.body_code ? tail.body_code->info().kernels : 0) << " kernels)";
  info_.path = os.str();
  path_ = std::make_unique<const PathTail>(std::move(tail));
}

Status SpecializedRegion::run_path(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs,
                                   std::vector<Tensor>& if_outputs, bool& took_path) const {
  took_path = false;
  DJ_RETURN_IF_ERROR(run(inputs, outputs));
  if (!path_ || !path_->body_code) return {};
  auto value = [&](const PathValueSource& s) -> Tensor {
    switch (s.kind) {
      case PathValueSource::Kind::HeadInput: return inputs[s.index];
      case PathValueSource::Kind::HeadOutput: return outputs[s.index];
      case PathValueSource::Kind::Constant: return s.constant;
      case PathValueSource::Kind::BodyOutput: break;
    }
    return Tensor();
  };
  // The path's guard: the branch the If would take, read as the If kernel reads it.
  Tensor condition = value(path_->condition);
  if (condition.defined() && !condition.on_host()) {
    DJ_ASSIGN_OR_RETURN(condition, condition.to_host());
    host_copies_.fetch_add(1, std::memory_order_relaxed);
  }
  if (!condition.defined() || condition.numel() != 1 || (condition.item<bool>() ? 0 : 1) != path_->branch) {
    side_exits_.fetch_add(1, std::memory_order_relaxed);
    return {};  // the interpreter runs the If (and reports a bad condition as it always does)
  }
  std::vector<Tensor> body_inputs;
  SignatureWords words;
  for (const PathValueSource& s : path_->body_inputs) {
    Tensor t = value(s);
    append_signature(words, t);
    body_inputs.push_back(t.defined() && !t.is_contiguous() ? t.contiguous() : std::move(t));
  }
  // The body's own guard, as the interpreter would check it before the branch region.
  const SpecializedRegion& body = *path_->body_code;
  if (!body.matches(words.data(), words.size(), hash_signature(words.data(), words.size()))) {
    side_exits_.fetch_add(1, std::memory_order_relaxed);
    return {};
  }
  std::vector<Tensor> body_outputs;
  if (Status st = body.run(body_inputs, body_outputs); !st.ok())
    return st.with_context(path_->body->label() + " (on the path): ");
  if (body_outputs.size() != path_->body->outputs.size())
    return make_error(StatusCode::Internal, path_->body->label(), " (on the path) produced ", body_outputs.size(),
                      " outputs, expected ", path_->body->outputs.size());
  body.count_hit();
  if_outputs.clear();
  for (const PathValueSource& s : path_->if_outputs) {
    Tensor t = s.kind == PathValueSource::Kind::BodyOutput ? body_outputs[s.index] : value(s);
    if_outputs.push_back(t.defined() && t.is_borrowed() ? t.clone() : std::move(t));  // as the If kernel does
  }
  path_runs_.fetch_add(1, std::memory_order_relaxed);
  took_path = true;
  return {};
}

bool SpecializedRegion::admits(const int64_t* words, size_t n) const {
  // Per input: every dim at least 1 and fewer than 2^31 elements (Halide's int32 extents).
  bool ok = true;
  for_each_signature_input(words, n, [&](const SignatureInput& in) {
    int64_t numel = 1;
    for (size_t d = 0; d < in.rank && ok; ++d) {
      const int64_t dim = words[in.dims_offset + d];
      numel *= dim;
      ok = dim >= 1 && numel < (int64_t{1} << 31);
    }
    return ok;
  });
  return ok;
}

std::string SpecializedRegion::describe() const {
  std::ostringstream os;
  os << "R" << info_.region << " [" << (info_.generic ? "generic " : "") << guard_text() << "]: " << info_.kernels << " kernels";
  if (info_.shared_kernels) os << " (" << info_.shared_kernels << " shared)";
  os << ", "
     << info_.interpreted_ops << " interpreted ops, compiled in " << static_cast<int64_t>(info_.compile_ms) << " ms, "
     << hits() << " hits";
  if (gpu_) os << ", on " << info_.device << ", " << host_copies_.load() << " host copies";
  if (path_) os << "; path " << info_.path << ", " << path_runs_.load() << " runs through, " << side_exits_.load() << " side exits";
  return os.str();
}

}  // namespace dj::specializer
