// The plumbing the `dj` subcommands share (declared in CliCommands.h): error
// reporting with exit codes, flag scanning, byte formatting.
#include <charconv>
#include <cstdio>
#include <iostream>

#include "bindings/cli/CliCommands.h"

namespace dj {

int report_error(const Status& status) {
  std::cerr << "dj: error: " << status.message() << "\n";
  return 1;
}

int report_usage_error(const std::string& message, const std::string& command) {
  std::cerr << "dj: error: " << message << "\n(see 'dj " << (command.empty() ? "" : command + " ") << "--help')\n";
  return 2;
}

bool take_flag_value(const std::vector<std::string>& args, size_t& i, const std::string& flag, std::string& value,
                     bool& missing) {
  const std::string& a = args[i];
  if (a == flag) {
    if (i + 1 >= args.size()) {
      missing = true;
      return true;
    }
    value = args[++i];
    return true;
  }
  if (a.size() > flag.size() && a.compare(0, flag.size(), flag) == 0 && a[flag.size()] == '=') {
    value = a.substr(flag.size() + 1);
    return true;
  }
  return false;
}

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", bytes, units[u]);
  return buf;
}

std::string format_ms(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f ms", seconds * 1e3);
  return buf;
}

std::optional<int64_t> parse_count(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace dj
