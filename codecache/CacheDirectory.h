// CacheDirectory: the filesystem rules a code cache lives by — a private
// directory, atomic file replacement, bounded reads, and advisory locks.
//
// Why so strict: cache entries are executable code. A directory that another user
// owns, or that is group/world-writable, could be used to plant code in this
// process, so it is refused (the caller disables the cache and warns). Files are
// created 0600, written to a temporary name in the same filesystem, then renamed
// over the final name, so readers see either the old file or the complete new one.
// Files not owned by this user are refused on read.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/Status.h"

namespace dj::codecache {

// Creates `path` (and missing parents) with mode 0700 if absent, then checks it:
// a directory, owned by the effective user, not group- or world-writable.
Status ensure_private_directory(const std::string& path);
// The same check without creating anything.
Status check_private_directory(const std::string& path);

// Writes `bytes` to `final_path` atomically via a 0600 temporary file in `tmp_dir`
// (same filesystem). Fails (IoError, naming the file and errno text) without
// leaving a temporary file behind.
Status write_file_atomically(const std::string& tmp_dir, const std::string& final_path,
                             std::span<const uint8_t> bytes);

// Reads a whole regular file owned by this user. nullopt when it does not exist;
// an error for anything else (not a regular file, another owner, larger than
// `max_bytes`, I/O error). `inode` receives the file's (dev, ino) identity.
struct FileIdentity {
  uint64_t device = 0;
  uint64_t inode = 0;
};
Expected<std::optional<std::vector<uint8_t>>> read_private_file(const std::string& path, uint64_t max_bytes,
                                                                 FileIdentity* identity = nullptr);

// Removes `path` only if it is still the file read earlier (same identity), so a
// process that found a damaged entry does not delete a good one another process
// renamed over it in the meantime. Returns whether it removed the file.
bool remove_if_same_file(const std::string& path, const FileIdentity& identity);

// Marks `path` used now (its mtime: the LRU clock). Errors are ignored: a read-only
// cache still serves hits.
void touch_file(const std::string& path);

// An exclusive flock(2) on a lock file (created 0600 if absent), released on
// destruction. flock locks belong to the open file, so two threads of one process
// exclude each other as two processes do.
class FileLock {
 public:
  static Expected<FileLock> exclusive(const std::string& path);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();
  int fd() const { return fd_; }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

std::string errno_text(int err);

}  // namespace dj::codecache
