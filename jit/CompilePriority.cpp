// CompilePriority: names, parsing, and applying a priority to the calling thread.
#include "jit/CompilePriority.h"

#include <cerrno>
#include <cstring>

#ifdef __linux__
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace dj::jit {

const char* compile_priority_name(CompilePriority priority) {
  switch (priority) {
    case CompilePriority::Normal: return "normal";
    case CompilePriority::Low: return "low";
    case CompilePriority::Idle: return "idle";
  }
  return "?";
}

Expected<CompilePriority> parse_compile_priority(const std::string& text) {
  if (text == "normal") return CompilePriority::Normal;
  if (text == "low") return CompilePriority::Low;
  if (text == "idle") return CompilePriority::Idle;
  return make_error(StatusCode::InvalidArgument, "compile priority '", text, "' is not one of normal, low, idle");
}

Status apply_compile_priority_to_this_thread(CompilePriority priority) {
  if (priority == CompilePriority::Normal) return {};
#ifdef __linux__
  const auto tid = static_cast<pid_t>(syscall(SYS_gettid));
  if (priority == CompilePriority::Low) {
    if (setpriority(PRIO_PROCESS, static_cast<id_t>(tid), 19) != 0)
      return make_error(StatusCode::Internal, "setpriority(nice 19) on the compile thread failed: ", std::strerror(errno));
    return {};
  }
  sched_param param{};
  param.sched_priority = 0;
  if (sched_setscheduler(tid, SCHED_IDLE, &param) != 0)
    return make_error(StatusCode::Internal, "sched_setscheduler(SCHED_IDLE) on the compile thread failed: ",
                      std::strerror(errno));
#endif
  return {};
}

}  // namespace dj::jit
