// The `dj` command: dispatches to its subcommands (run, info, repl, bench, cache).
#include <cstdio>
#include <cstring>
#include <iostream>

#include "bindings/c/dynajit.h"
#include "bindings/cli/CliCommands.h"


namespace {

const char kUsage[] =
    "usage: dj <command> [arguments]\n"
    "\n"
    "DynaJIT: runs dynamic neural networks (ONNX models).\n"
    "\n"
    "commands:\n"
    "  run MODEL [options]   run a model once (or --repeat N times) on given or random inputs;\n"
    "                        prints the outputs, the run time and peak memory\n"
    "  info MODEL [--nodes]  show a model's inputs and outputs (with symbolic dims), op counts\n"
    "                        and opset\n"
    "  repl MODEL            inspect a model interactively: run it, sweep shapes, and see its\n"
    "                        regions, hot shapes, branch paths, routing and time per region\n"
    "  bench MODEL [options] time the interpreter against the JIT over input shapes: latency,\n"
    "                        compile time, peak memory, output agreement ('dj bench --help')\n"
    "  cache ls|stats|clear|verify   the on-disk code cache ('dj cache --help')\n"
    "\n"
    "options:\n"
    "  -h, --help            this help ('dj run --help' for a command's own)\n"
    "  --version             print the version\n"
    "\n"
    "MODEL is an ONNX file: binary protobuf, or ONNX's textual syntax.\n"
    "Environment: DJ_LOG=error|warn|info|debug sets how much is logged on stderr\n"
    "(default warn); DJ_MAX_MEMORY_MB caps tensor memory (0 or unset: no cap);\n"
    "DJ_TRACE=off turns tracing off; DJ_TRACE_MAX_SIGNATURES (default 64) bounds the shape\n"
    "signatures kept per region; DJ_JIT_THRESHOLD (default 8) is the count that makes a\n"
    "(region, signature) hot; DJ_CACHE_DIR (default ~/.cache/dynajit) and DJ_CACHE_MAX_MB\n"
    "(default 1024) place and bound the code cache, DJ_CACHE=off disables it, and\n"
    "DJ_WARM_CACHE=1 loads a model's cached code at load time.\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "dj (DynaJIT) " << dj_version() << "\n";
    return 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "run") return dj::run_command(args);
    if (command == "info") return dj::info_command(args);
    if (command == "repl") return dj::repl_command(args);
    if (command == "cache") return dj::cache_command(args);
    if (command == "bench") return dj::bench_command(args);
  } catch (const std::exception& e) {
    // Kernels only throw AllocationError and the interpreter catches it; this is a last resort.
    std::cerr << "dj: error: " << e.what() << "\n";
    return 1;
  }
  return dj::report_usage_error("unknown command '" + command + "'", "");
}
