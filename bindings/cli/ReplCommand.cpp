// `dj repl MODEL`: the interactive inspector. Reads commands with line editing
// and history (libedit) on a terminal, from stdin when piped, or from -c "a; b".
// A failing command prints its error and the REPL goes on; in non-interactive
// use the exit code is 1 if any command failed.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>

#include <editline/readline.h>

#include "bindings/cli/CliCommands.h"
#include "bindings/cli/ReplSession.h"
#include "frontend/OnnxLoader.h"

namespace dj {
namespace {

const char kReplUsage[] =
    "usage: dj repl MODEL [-c \"CMD; CMD ...\"]\n"
    "\n"
    "Loads MODEL and reads commands that run it and show what the tracer recorded:\n"
    "regions, hot shape signatures, If/Loop paths, mixture-of-experts routing, time\n"
    "per region, a Chrome-trace timeline. 'help' inside lists the commands.\n"
    "\n"
    "options:\n"
    "  -c \"CMDS\"     run these commands (separated by ';') and exit\n"
    "  -h, --help    this help\n"
    "\n"
    "Without -c, commands come from the terminal (line editing, history in\n"
    "~/.dj_history) or, when stdin is not a terminal, one per line from stdin.\n"
    "\n"
    "examples:\n"
    "  dj repl models/tiny_encoder.onnx -c \"sweep tokens=1x[1..64]x32 n=100; hot 5\"\n"
    "  dj repl models/moe_router.onnx < script.txt\n";

std::string history_path() {
  const char* home = std::getenv("HOME");
  return home && *home ? std::string(home) + "/.dj_history" : std::string();
}

bool is_quit(const std::string& line) {
  auto words = split_words(line);
  return words.size() == 1 && (words[0] == "quit" || words[0] == "exit");
}

// Runs one line (which may hold several commands separated by ';'). Returns false to stop.
bool run_line(ReplSession& session, const std::string& line, int& failures) {
  size_t start = 0;
  while (start <= line.size()) {
    size_t end = line.find(';', start);
    std::string command = line.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (is_quit(command)) return false;
    Status st = session.execute(command);
    if (!st.ok()) {
      ++failures;
      std::cout.flush();
      std::cerr << "error: " << st.message() << "\n";
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  std::cout.flush();
  return true;
}

}  // namespace

int repl_command(const std::vector<std::string>& args) {
  std::string model_path, script;
  bool have_script = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kReplUsage;
      return 0;
    }
    if (a == "-c") {
      if (i + 1 >= args.size()) return report_usage_error("-c needs the commands to run", "repl");
      script = args[++i];
      have_script = true;
    } else if (!a.empty() && a[0] == '-') {
      return report_usage_error("unknown option '" + a + "'", "repl");
    } else if (model_path.empty()) {
      model_path = a;
    } else {
      return report_usage_error("unexpected argument '" + a + "'", "repl");
    }
  }
  if (model_path.empty()) return report_usage_error("no MODEL given", "repl");
  auto loaded = load_model_file(model_path);
  if (!loaded.ok()) return report_error(loaded.status());
  auto model = std::make_shared<const Model>(std::move(loaded).value());
  ReplSession session(model_path, model, std::cout);
  int failures = 0;

  if (have_script) {
    run_line(session, script, failures);
    return failures ? 1 : 0;
  }
  if (!isatty(STDIN_FILENO)) {
    std::string line;
    while (std::getline(std::cin, line))
      if (!run_line(session, line, failures)) break;
    return failures ? 1 : 0;
  }

  std::cout << "dj repl: " << model_path << " (" << session.interpreter().regions().size()
            << " regions). 'help' lists the commands, 'quit' leaves.\n";
  const std::string history = history_path();
  if (!history.empty()) read_history(history.c_str());
  while (true) {
    char* raw = readline("dj> ");
    if (!raw) {  // Ctrl-D
      std::cout << "\n";
      break;
    }
    std::string line(raw);
    std::free(raw);
    if (line.find_first_not_of(" \t") != std::string::npos) add_history(line.c_str());
    if (!run_line(session, line, failures)) break;
  }
  if (!history.empty()) write_history(history.c_str());
  return 0;
}

}  // namespace dj
