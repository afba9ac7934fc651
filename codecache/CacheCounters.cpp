// Persisted counters: text lines under an exclusive flock (see CacheCounters.h).
#include "codecache/CacheCounters.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>
#include <utility>
#include <vector>

namespace dj::codecache {
namespace {

std::vector<std::pair<const char*, uint64_t CacheCounters::*>> fields() {
  return {{"hits", &CacheCounters::hits},         {"misses", &CacheCounters::misses},
          {"corrupt", &CacheCounters::corrupt},   {"foreign", &CacheCounters::foreign},
          {"stores", &CacheCounters::stores},     {"store_failures", &CacheCounters::store_failures},
          {"evictions", &CacheCounters::evictions}};
}

std::string read_all(int fd) {
  std::string text;
  char buf[512];
  off_t offset = 0;
  while (true) {
    ssize_t n = ::pread(fd, buf, sizeof buf, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    offset += n;
    if (text.size() > 64 * 1024) break;  // not ours: stop reading
  }
  return text;
}

CacheCounters parse(const std::string& text) {
  CacheCounters c;
  std::istringstream in(text);
  std::string name, value;
  while (in >> name >> value) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(value.c_str(), &end, 10);
    if (end == value.c_str() || *end != '\0') continue;
    for (const auto& [field_name, member] : fields())
      if (name == field_name) c.*member = v;
  }
  return c;
}

}  // namespace

CacheCounters& CacheCounters::operator+=(const CacheCounters& o) {
  for (const auto& [name, member] : fields()) this->*member += o.*member;
  return *this;
}

bool CacheCounters::empty() const {
  for (const auto& [name, member] : fields())
    if (this->*member != 0) return false;
  return true;
}

void add_persisted_counters(const std::string& path, const CacheCounters& delta) {
  if (delta.empty()) return;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return;
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      ::close(fd);
      return;
    }
  }
  CacheCounters c = parse(read_all(fd));
  c += delta;
  std::string text;
  for (const auto& [name, member] : fields()) text += std::string(name) + " " + std::to_string(c.*member) + "\n";
  // Lines only grow (counts only increase), so overwriting in place then truncating
  // leaves no stale tail even if the truncate were skipped.
  ssize_t written = ::pwrite(fd, text.data(), text.size(), 0);
  if (written == static_cast<ssize_t>(text.size())) (void)::ftruncate(fd, static_cast<off_t>(text.size()));
  ::close(fd);
}

CacheCounters read_persisted_counters(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return {};
  // A shared lock: never read a half-written update.
  while (::flock(fd, LOCK_SH) != 0 && errno == EINTR) {
  }
  CacheCounters c = parse(read_all(fd));
  ::close(fd);
  return c;
}

}  // namespace dj::codecache
