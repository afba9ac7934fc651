// ReplSession: command dispatch and the session's traced interpreter.
#include "bindings/cli/ReplSession.h"

#include <algorithm>
#include <sstream>

namespace dj {
namespace {

// The REPL keeps a timeline of the recent region executions for `timeline`.
constexpr size_t kReplTimelineEvents = 200000;

InterpreterOptions repl_interpreter_options() {
  InterpreterOptions o = InterpreterOptions::from_environment();
  o.trace = true;  // the REPL is about tracing, whatever DJ_TRACE says
  o.trace_options.timeline_capacity = kReplTimelineEvents;
  return o;
}

}  // namespace

const ReplCommand* ReplCommandTable::find(const std::string& name) const {
  auto it = commands_.find(name);
  return it == commands_.end() ? nullptr : &it->second;
}

std::vector<std::string> ReplCommandTable::names_starting_with(const std::string& prefix) const {
  std::vector<std::string> out;
  for (const auto& [name, cmd] : commands_)
    if (name.compare(0, prefix.size(), prefix) == 0) out.push_back(name);
  return out;
}

ReplSession::ReplSession(std::string model_path, std::shared_ptr<const Model> model, std::ostream& out)
    : model_path_(std::move(model_path)), model_(std::move(model)), interpreter_(model_, repl_interpreter_options()),
      out_(out) {
  register_run_commands(commands_);
  register_inspect_commands(commands_);
#ifdef DJ_HAVE_JIT
  register_jit_commands(commands_);
  auto jit_options = specializer::SpecializerOptions::from_environment();
  jit_options.listings = true;
  // DJ_DEVICE picks the device; a GPU that cannot be had leaves the session on the CPU, said once.
  auto attached = specializer::attach_on_device(interpreter_, jit_options, device_request_from_env(DeviceRequest::Cpu));
  if (!attached.ok()) {
    out << "warning: " << attached.status().message() << "; compiling for the CPU instead\n";
    attached = specializer::attach_on_device(interpreter_, jit_options, DeviceRequest::Cpu);
  }
  if (attached.ok()) jit_ = *attached;
  specializer::SpecializedRegion::set_step_timing(true);  // for 'steps'; a clock read per step
#endif
}

ReplSession::~ReplSession() {
#ifdef DJ_HAVE_JIT
  if (jit_) jit_->detach();
#endif
}

Status ReplSession::execute(const std::string& line) {
  ReplArgs words = split_words(line);
  if (words.empty() || words[0][0] == '#') return {};
  const ReplCommand* command = commands_.find(words[0]);
  if (!command) {
    std::string hint;
    auto close = commands_.names_starting_with(words[0].substr(0, 1));
    if (!close.empty()) {
      hint = " (commands starting with '" + words[0].substr(0, 1) + "':";
      for (const std::string& n : close) hint += " " + n;
      hint += ")";
    }
    return make_error(StatusCode::InvalidArgument, "unknown command '", words[0], "'", hint, "; 'help' lists them");
  }
  ReplArgs args(words.begin() + 1, words.end());
  Status st = command->handler(*this, args);
  if (st.ok()) return st;
  std::string message = command->name + ": " + st.message();
  if (st.code() == StatusCode::InvalidArgument) message += "\n  usage: " + command->usage;
  return Status(st.code(), message);
}

Expected<int32_t> ReplSession::parse_region(const std::string& text) const {
  std::string digits = (!text.empty() && (text[0] == 'R' || text[0] == 'r')) ? text.substr(1) : text;
  bool numeric = !digits.empty() && digits.size() < 9 &&
                 std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!numeric) return make_error(StatusCode::InvalidArgument, "'", text, "' is not a region (like R3)");
  int32_t id = std::stoi(digits);
  const size_t count = interpreter_.regions().size();
  if (static_cast<size_t>(id) >= count)
    return make_error(StatusCode::InvalidArgument, "no region R", id, ": this model has R0..R", count - 1,
                      " ('regions' lists them)");
  return id;
}

ReplArgs split_words(const std::string& line) {
  ReplArgs words;
  std::istringstream is(line);
  std::string w;
  while (is >> w) words.push_back(w);
  return words;
}

std::optional<std::pair<std::string, std::string>> split_key_value(const std::string& word) {
  size_t eq = word.find('=');
  if (eq == std::string::npos || eq == 0) return std::nullopt;
  return std::make_pair(word.substr(0, eq), word.substr(eq + 1));
}

}  // namespace dj
