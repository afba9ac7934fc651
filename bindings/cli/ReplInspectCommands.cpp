// The REPL's commands that look at what the tracer saw: regions, ir, hot, paths,
// routes, prof, timeline, stats, reset — and help.
#include <fstream>

#include "bindings/cli/CliCommands.h"
#include "bindings/cli/ReplSession.h"
#include "bindings/cli/TraceTables.h"
#include "runtime/TraceReport.h"

namespace dj {
namespace {

Status no_arguments(const ReplArgs& args) {
  if (!args.empty()) return make_error(StatusCode::InvalidArgument, "takes no arguments, got '", args[0], "'");
  return {};
}

Status regions_command(ReplSession& s, const ReplArgs& args) {
  DJ_RETURN_IF_ERROR(no_arguments(args));
  s.out() << format_regions(s.interpreter().regions());
  return {};
}

Status ir_command(ReplSession& s, const ReplArgs& args) {
  if (args.size() != 1) return Status(StatusCode::InvalidArgument, "expected one region, like R3");
  DJ_ASSIGN_OR_RETURN(int32_t id, s.parse_region(args[0]));
  s.out() << s.interpreter().regions().region(id).ir_text();
  return {};
}

Status hot_command(ReplSession& s, const ReplArgs& args) {
  size_t limit = 20;
  if (args.size() > 1) return Status(StatusCode::InvalidArgument, "expected at most one number");
  if (args.size() == 1) {
    auto v = parse_count(args[0]);
    if (!v || *v < 1)
      return make_error(StatusCode::InvalidArgument, "expected a positive number of rows, got '", args[0], "'");
    limit = static_cast<size_t>(*v);
  }
  s.out() << format_hot(s.interpreter().regions(), s.tracer(), limit);
  return {};
}

Status paths_command(ReplSession& s, const ReplArgs& args) {
  DJ_RETURN_IF_ERROR(no_arguments(args));
  s.out() << format_paths(s.interpreter().regions(), s.tracer());
  return {};
}

Status routes_command(ReplSession& s, const ReplArgs& args) {
  DJ_RETURN_IF_ERROR(no_arguments(args));
  s.out() << format_routes(s.interpreter().regions(), s.tracer());
  return {};
}

Status prof_command(ReplSession& s, const ReplArgs& args) {
  DJ_RETURN_IF_ERROR(no_arguments(args));
  s.out() << format_profile(s.interpreter().regions(), s.tracer());
  return {};
}

Status timeline_command(ReplSession& s, const ReplArgs& args) {
  if (args.size() != 1) return Status(StatusCode::InvalidArgument, "expected an output file, like out.json");
  std::vector<TimelineEvent> events = s.tracer().timeline();
  if (events.empty()) return Status(StatusCode::InvalidArgument, "nothing to export yet: run the model first");
  std::string json = timeline_chrome_json(s.interpreter().regions(), events);
  std::ofstream file(args[0], std::ios::binary);
  if (!file) return make_error(StatusCode::IoError, "cannot write '", args[0], "'");
  file << json;
  file.close();
  if (!file) return make_error(StatusCode::IoError, "writing '", args[0], "' failed");
  s.out() << "wrote " << events.size() << " region events of runs " << events.front().run << ".."
          << events.back().run << " to " << args[0] << " (open in https://ui.perfetto.dev or chrome://tracing)\n";
  return {};
}

Status stats_command(ReplSession& s, const ReplArgs& args) {
  DJ_RETURN_IF_ERROR(no_arguments(args));
  s.out() << trace_stats_json(s.model(), s.interpreter().regions(), &s.tracer()) << "\n";
  return {};
}

Status reset_command(ReplSession& s, const ReplArgs& args) {
  DJ_RETURN_IF_ERROR(no_arguments(args));
  s.tracer().reset();
  s.out() << "statistics cleared\n";
  return {};
}

Status help_command(ReplSession& s, const ReplArgs& args) {
  if (args.size() > 1) return Status(StatusCode::InvalidArgument, "expected at most one command name");
  if (args.size() == 1) {
    const ReplCommand* c = s.commands().find(args[0]);
    if (!c) return make_error(StatusCode::InvalidArgument, "no command '", args[0], "'");
    s.out() << c->usage << "\n  " << c->summary << "\n";
    if (!c->details.empty()) s.out() << c->details << "\n";
    return {};
  }
  s.out() << "commands (help NAME for details; several on one line with ';'):\n";
  for (const auto& [name, c] : s.commands().all()) {
    std::string usage = c.usage;
    if (usage.size() < 44) usage += std::string(44 - usage.size(), ' ');
    s.out() << "  " << usage << "  " << c.summary << "\n";
  }
  s.out() << "  quit                                          leave (also: exit, Ctrl-D)\n";
  return {};
}

}  // namespace

void register_inspect_commands(ReplCommandTable& table) {
  table.add({"regions", "regions", "list the regions with their kind, ops and symbolic input shapes", "",
             regions_command});
  table.add({"ir", "ir REGION", "show a region's ops with symbolic shapes, e.g. ir R2", "", ir_command});
  table.add({"hot", "hot [N]", "the N (default 20) (region, signature) pairs with the most time", "", hot_command});
  table.add({"paths", "paths", "If branch counts and Loop/Scan trip-count histograms", "", paths_command});
  table.add({"routes", "routes", "mixture-of-experts dispatch: rows per expert per router", "", routes_command});
  table.add({"prof", "prof", "time per region", "", prof_command});
  table.add({"timeline", "timeline FILE.json", "write the recent region executions as a Chrome trace (Perfetto)",
             "", timeline_command});
  table.add({"stats", "stats", "all statistics as JSON (the same as dj_model_stats)", "", stats_command});
  table.add({"reset", "reset", "forget all statistics", "", reset_command});
  table.add({"help", "help [COMMAND]", "this list, or one command's details", "", help_command});
}

}  // namespace dj
