// POSIX implementation of the cache's filesystem rules (see CacheDirectory.h).
#include "codecache/CacheDirectory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <thread>

namespace dj::codecache {

std::string errno_text(int err) { return std::strerror(err); }

Status check_private_directory(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return make_error(StatusCode::IoError, "cache directory '", path, "': ", errno_text(errno));
  if (!S_ISDIR(st.st_mode)) return make_error(StatusCode::IoError, "cache path '", path, "' is not a directory");
  if (st.st_uid != ::geteuid())
    return make_error(StatusCode::InvalidArgument, "cache directory '", path, "' is owned by uid ", st.st_uid,
                      ", not by this user (uid ", ::geteuid(), "): refusing to load code from it");
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return make_error(StatusCode::InvalidArgument, "cache directory '", path, "' has mode ", mode,
                      " (group- or world-writable): refusing to load code from it; run chmod 700 on it");
  }
  return Status::ok_status();
}

Status ensure_private_directory(const std::string& path) {
  if (path.empty()) return make_error(StatusCode::InvalidArgument, "empty cache directory path");
  // mkdir -p, each missing component 0700 (mode is masked by umask, which only removes bits).
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
      return make_error(StatusCode::IoError, "cannot create cache directory '", prefix, "': ", errno_text(errno));
  }
  return check_private_directory(path);
}

Status write_file_atomically(const std::string& tmp_dir, const std::string& final_path,
                             std::span<const uint8_t> bytes) {
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = tmp_dir + "/" + std::to_string(::getpid()) + "." +
                          std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()) % 1000000007) + "." +
                          std::to_string(counter.fetch_add(1)) + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(StatusCode::IoError, "cannot create '", tmp, "': ", errno_text(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : ENOSPC;
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error(StatusCode::IoError, "cannot write '", tmp, "': ", errno_text(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return make_error(StatusCode::IoError, "cannot write '", tmp, "': ", errno_text(err));
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return make_error(StatusCode::IoError, "cannot rename into '", final_path, "': ", errno_text(err));
  }
  return Status::ok_status();
}

Expected<std::optional<std::vector<uint8_t>>> read_private_file(const std::string& path, uint64_t max_bytes,
                                                                 FileIdentity* identity) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::vector<uint8_t>>();
    return make_error(StatusCode::IoError, "cannot open '", path, "': ", errno_text(errno));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return make_error(StatusCode::IoError, "cannot stat '", path, "': ", errno_text(err));
  }
  if (identity) *identity = {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(StatusCode::IoError, "'", path, "' is not a regular file");
  }
  if (st.st_uid != ::geteuid()) {
    ::close(fd);
    return make_error(StatusCode::IoError, "'", path, "' is owned by uid ", st.st_uid, ", not by this user");
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return make_error(StatusCode::IoError, "'", path, "' is ", st.st_size, " bytes, more than the ", max_bytes,
                      " allowed");
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return make_error(StatusCode::IoError, "cannot read '", path, "': ", errno_text(err));
    }
    if (n == 0) break;  // shrank under us: decode reports the short file
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  ::close(fd);
  return std::optional<std::vector<uint8_t>>(std::move(bytes));
}

bool remove_if_same_file(const std::string& path, const FileIdentity& identity) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return false;
  if (static_cast<uint64_t>(st.st_dev) != identity.device || static_cast<uint64_t>(st.st_ino) != identity.inode)
    return false;
  return ::unlink(path.c_str()) == 0;
}

void touch_file(const std::string& path) { (void)::utimensat(AT_FDCWD, path.c_str(), nullptr, AT_SYMLINK_NOFOLLOW); }

Expected<FileLock> FileLock::exclusive(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return make_error(StatusCode::IoError, "cannot open lock file '", path, "': ", errno_text(errno));
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    ::close(fd);
    return make_error(StatusCode::IoError, "cannot lock '", path, "': ", errno_text(err));
  }
  return FileLock(fd);
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace dj::codecache
