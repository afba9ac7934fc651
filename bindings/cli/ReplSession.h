// ReplSession: the state of one `dj repl`: the model, its traced interpreter, the
// table of commands, and where output goes.
//
// Commands are plain functions registered in a ReplCommandTable, one line each
// (name, usage, summary, handler); a later feature adds its commands by adding a
// register_*_commands function — the REPL loop itself never changes. A command
// reports a bad argument or a failed run as a Status: the loop prints it and goes
// on with the next command.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "runtime/Graph.h"
#include "runtime/Interpreter.h"
#include "runtime/Status.h"
#ifdef DJ_HAVE_JIT
#include "specializer/DevicePlacement.h"
#include "specializer/Specializer.h"
#endif

namespace dj {

class ReplSession;
using ReplArgs = std::vector<std::string>;
using ReplHandler = Status (*)(ReplSession& session, const ReplArgs& args);

struct ReplCommand {
  std::string name;
  std::string usage;    // "run [NAME=SHAPE[:DTYPE]|NAME=FILE.npy ...] [seed=N]"
  std::string summary;  // one line
  std::string details;  // optional, shown by 'help NAME'
  ReplHandler handler = nullptr;
};

class ReplCommandTable {
 public:
  void add(ReplCommand command) { commands_[command.name] = std::move(command); }
  const ReplCommand* find(const std::string& name) const;
  const std::map<std::string, ReplCommand>& all() const { return commands_; }
  // Names starting with `prefix` (for completion and "did you mean").
  std::vector<std::string> names_starting_with(const std::string& prefix) const;

 private:
  std::map<std::string, ReplCommand> commands_;
};

// The command families (ReplRunCommands.cpp, ReplInspectCommands.cpp, ReplJitCommands.cpp).
void register_run_commands(ReplCommandTable& table);
void register_inspect_commands(ReplCommandTable& table);
void register_jit_commands(ReplCommandTable& table);

class ReplSession {
 public:
  ReplSession(std::string model_path, std::shared_ptr<const Model> model, std::ostream& out);
  ~ReplSession();

  const std::string& model_path() const { return model_path_; }
  const Model& model() const { return *model_; }
  const Graph& graph() const { return *model_->graph; }
  const Interpreter& interpreter() const { return interpreter_; }
  Tracer& tracer() const { return *interpreter_.tracer(); }
  const ReplCommandTable& commands() const { return commands_; }
  std::ostream& out() { return out_; }
  uint64_t next_seed() { return seed_++; }
  void set_seed(uint64_t seed) { seed_ = seed; }

  // "R3", "r3" or "3" -> 3, checked against the model's regions.
  Expected<int32_t> parse_region(const std::string& text) const;
  // Runs one command line ("run x=1x8x64"); an empty line or a comment (#) does nothing.
  Status execute(const std::string& line);

#ifdef DJ_HAVE_JIT
  // Null when DJ_JIT=off. Keeps code listings, for `code`.
  specializer::Specializer* jit() const { return jit_.get(); }
#endif

 private:
  std::string model_path_;
  std::shared_ptr<const Model> model_;
  Interpreter interpreter_;
  ReplCommandTable commands_;
  std::ostream& out_;
  uint64_t seed_ = 0;
#ifdef DJ_HAVE_JIT
  std::shared_ptr<specializer::Specializer> jit_;
#endif
};

// Splits a command line into words on whitespace.
ReplArgs split_words(const std::string& line);
// "key=value" -> (key, value); nullopt when there is no '='.
std::optional<std::pair<std::string, std::string>> split_key_value(const std::string& word);

}  // namespace dj
