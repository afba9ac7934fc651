// Log: the one logging facility, controlled by the DJ_LOG environment variable
// (off | error | warn | info | debug; default warn). Messages go to stderr with
// a "dynajit[level]" prefix. Cheap when disabled: the level check happens
// before the message is formatted.
#pragma once

#include <sstream>
#include <string>

namespace dj {

enum class LogLevel : int { Off = 0, Error = 1, Warn = 2, Info = 3, Debug = 4 };

LogLevel log_level();                 // parsed from DJ_LOG once
void set_log_level(LogLevel level);   // for tests and the CLI's --verbose
void log_message(LogLevel level, const std::string& message);

}  // namespace dj

#define DJ_LOG_AT(level, ...)                                        \
  do {                                                               \
    if (static_cast<int>(::dj::log_level()) >= static_cast<int>(level)) { \
      std::ostringstream dj_log_os_;                                 \
      dj_log_os_ << __VA_ARGS__;                                     \
      ::dj::log_message(level, dj_log_os_.str());                    \
    }                                                                \
  } while (0)
#define DJ_LOG_ERROR(...) DJ_LOG_AT(::dj::LogLevel::Error, __VA_ARGS__)
#define DJ_LOG_WARN(...) DJ_LOG_AT(::dj::LogLevel::Warn, __VA_ARGS__)
#define DJ_LOG_INFO(...) DJ_LOG_AT(::dj::LogLevel::Info, __VA_ARGS__)
#define DJ_LOG_DEBUG(...) DJ_LOG_AT(::dj::LogLevel::Debug, __VA_ARGS__)
