// run_shell_command: runs a shell command line and captures its exit code,
// stdout and stderr — for the tests that drive the built `dj` binary.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace dj::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// stderr goes through `scratch_file` (overwritten).
inline CommandResult run_shell_command(const std::string& command_line, const std::string& scratch_file) {
  std::string command = command_line + " 2>" + scratch_file;
  CommandResult r;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::stringstream e;
  e << std::ifstream(scratch_file).rdbuf();
  r.err = e.str();
  return r;
}

#define EXPECT_HAS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "'" << (needle) << "' not in:\n" << (haystack)

}  // namespace dj::testing
