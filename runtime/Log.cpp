// Log: level from DJ_LOG, serialized writes to stderr.
#include "runtime/Log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace dj {
namespace {
LogLevel parse_level(const char* s) {
  if (!s || !*s) return LogLevel::Warn;
  if (!std::strcmp(s, "off") || !std::strcmp(s, "0")) return LogLevel::Off;
  if (!std::strcmp(s, "error")) return LogLevel::Error;
  if (!std::strcmp(s, "warn") || !std::strcmp(s, "warning")) return LogLevel::Warn;
  if (!std::strcmp(s, "info") || !std::strcmp(s, "1")) return LogLevel::Info;
  if (!std::strcmp(s, "debug") || !std::strcmp(s, "2")) return LogLevel::Debug;
  return LogLevel::Warn;
}
std::atomic<int>& level_ref() {
  static std::atomic<int> level{static_cast<int>(parse_level(std::getenv("DJ_LOG")))};
  return level;
}
const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::Error: return "error";
    case LogLevel::Warn: return "warn";
    case LogLevel::Info: return "info";
    case LogLevel::Debug: return "debug";
    default: return "";
  }
}
}  // namespace

LogLevel log_level() { return static_cast<LogLevel>(level_ref().load(std::memory_order_relaxed)); }
void set_log_level(LogLevel level) { level_ref().store(static_cast<int>(level)); }

void log_message(LogLevel level, const std::string& message) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::fprintf(stderr, "dynajit[%s] %s\n", level_name(level), message.c_str());
}

}  // namespace dj
