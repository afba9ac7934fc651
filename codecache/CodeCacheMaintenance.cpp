// CodeCache maintenance: scanning entries for listings and stats, LRU eviction,
// verify and clear. Every scan tolerates files vanishing under it (other
// processes evict and store concurrently).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

#include "codecache/CacheDirectory.h"
#include "codecache/CodeCache.h"
#include "runtime/Log.h"

namespace dj::codecache {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMaxEntryFileBytes = uint64_t{2} << 30;
// A temporary file older than this belongs to a writer that died.
constexpr int64_t kStaleTemporarySeconds = 3600;

struct ScannedFile {
  std::string path;
  Digest256 key;
  uint64_t bytes = 0;
  int64_t mtime_ns = 0;
};

// Every entries/xx/<key>.djc file; names that are not keys are skipped.
std::vector<ScannedFile> scan_entries(const std::string& dir) {
  std::vector<ScannedFile> files;
  std::error_code ec;
  for (fs::directory_iterator shard(dir + "/entries", ec), end; !ec && shard != end; shard.increment(ec)) {
    std::error_code ec2;
    for (fs::directory_iterator it(shard->path(), ec2); !ec2 && it != end; it.increment(ec2)) {
      const std::string name = it->path().filename().string();
      if (name.size() != 68 || name.compare(64, 4, ".djc") != 0) continue;
      auto key = Digest256::from_hex(std::string_view(name).substr(0, 64));
      if (!key) continue;
      struct stat st;
      if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      files.push_back({it->path().string(), *key, static_cast<uint64_t>(st.st_size),
                       static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec});
    }
  }
  return files;
}

uint64_t remove_stale_temporaries(const std::string& dir) {
  uint64_t removed = 0;
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  std::error_code ec;
  for (fs::directory_iterator it(dir + "/tmp", ec), end; !ec && it != end; it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (now - static_cast<int64_t>(st.st_mtim.tv_sec) > kStaleTemporarySeconds && ::unlink(it->path().c_str()) == 0)
      ++removed;
  }
  return removed;
}

}  // namespace

void CodeCache::evict_over_cap(const Digest256& keep) {
  std::vector<ScannedFile> files = scan_entries(options_.dir);
  uint64_t total = 0;
  for (const ScannedFile& f : files) total += f.bytes;
  if (total <= options_.max_bytes) return;
  std::sort(files.begin(), files.end(),
            [](const ScannedFile& a, const ScannedFile& b) { return a.mtime_ns < b.mtime_ns; });
  CacheCounters delta;
  for (const ScannedFile& f : files) {
    if (total <= options_.max_bytes) break;
    if (f.key == keep) continue;
    if (::unlink(f.path.c_str()) == 0) {
      total -= f.bytes;
      ++delta.evictions;
    }
  }
  if (delta.evictions) {
    DJ_LOG_DEBUG("code cache: evicted " << delta.evictions << " entries to stay under " << options_.max_bytes
                                        << " bytes");
    count(delta);
  }
}

std::vector<CacheListing> CodeCache::list() const {
  std::vector<CacheListing> out;
  for (const ScannedFile& f : scan_entries(options_.dir)) {
    CacheListing l;
    l.key_hex = f.key.hex();
    l.file_bytes = f.bytes;
    l.last_used_unix_ms = f.mtime_ns / 1000000;
    auto read = read_private_file(f.path, kMaxEntryFileBytes);
    if (!read.ok()) {
      l.problem = read.status().message();
    } else if (!read.value()) {
      continue;  // evicted while we looked
    } else {
      DecodedEntry d = decode_entry(*read.value());
      if (d.problem != DecodeProblem::None) {
        l.problem = d.why;
      } else if (d.entry.key != f.key) {
        l.problem = "holds the entry of key " + d.entry.key.short_hex();
      } else {
        l.valid = true;
        l.entry = std::move(d.entry);
        for (CacheObject& o : l.entry.objects) std::vector<uint8_t>().swap(o.bytes);  // listings carry no code
      }
    }
    out.push_back(std::move(l));
  }
  std::sort(out.begin(), out.end(),
            [](const CacheListing& a, const CacheListing& b) { return a.last_used_unix_ms > b.last_used_unix_ms; });
  return out;
}

CacheStats CodeCache::stats() const {
  CacheStats s;
  for (const ScannedFile& f : scan_entries(options_.dir)) {
    ++s.entries;
    s.bytes += f.bytes;
  }
  s.max_bytes = options_.max_bytes;
  std::error_code ec;
  for (fs::directory_iterator it(options_.dir + "/models", ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".idx") ++s.models;
  s.all_processes = read_persisted_counters(options_.dir + "/stats");
  std::lock_guard<std::mutex> lock(counters_mutex_);
  s.this_cache = counters_;
  return s;
}

VerifyReport CodeCache::verify() {
  VerifyReport r;
  CacheCounters delta;
  for (const ScannedFile& f : scan_entries(options_.dir)) {
    ++r.checked;
    FileIdentity identity;
    auto read = read_private_file(f.path, kMaxEntryFileBytes, &identity);
    if (read.ok() && !read.value()) {
      --r.checked;  // evicted meanwhile
      continue;
    }
    std::string why;
    bool foreign = false;
    if (!read.ok()) {
      why = read.status().message();
    } else {
      DecodedEntry d = decode_entry(*read.value());
      if (d.problem != DecodeProblem::None) {
        why = d.why;
        foreign = d.problem == DecodeProblem::OtherFormat;
      } else if (d.entry.key != f.key) {
        why = "holds the entry of key " + d.entry.key.short_hex() + " (replaced by another entry)";
      } else if (!options_.target.empty() && d.entry.target != options_.target) {
        why = "compiled for target '" + d.entry.target + "'";
        foreign = true;
      } else if (!options_.versions.empty() && d.entry.versions != options_.versions) {
        why = "compiled by '" + d.entry.versions + "'";
        foreign = true;
      }
    }
    if (why.empty()) {
      ++r.ok;
      continue;
    }
    ++(foreign ? r.foreign : r.corrupt);
    ++(foreign ? delta.foreign : delta.corrupt);
    r.problems.push_back(f.key.short_hex() + ": " + why);
    // Foreign entries stay: another DynaJIT build sharing the directory may load them
    // (LRU eviction removes them in time if nobody does).
    if (!foreign && read.ok() && remove_if_same_file(f.path, identity)) ++r.removed;
  }
  r.stale_temporaries = remove_stale_temporaries(options_.dir);

  // Rewrite each model index without the keys whose entries are gone.
  if (auto lock = FileLock::exclusive(path("lock")); lock.ok()) {
    std::error_code ec;
    for (fs::directory_iterator it(options_.dir + "/models", ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (it->path().extension() != ".idx") continue;
      const std::string model = name.substr(0, name.size() - 4);
      auto raw = read_private_file(it->path().string(), kMaxEntryFileBytes);
      if (!raw.ok() || !raw.value()) continue;
      const uint64_t lines = static_cast<uint64_t>(std::count(raw.value()->begin(), raw.value()->end(), '\n'));
      std::vector<Digest256> live = model_entries(model);
      if (lines == live.size()) continue;
      r.index_lines_dropped += lines - std::min<uint64_t>(lines, live.size());
      std::string text;
      for (const Digest256& k : live) text += k.hex() + "\n";
      if (live.empty()) {
        ::unlink(it->path().c_str());
      } else {
        (void)write_file_atomically(path("tmp"), it->path().string(),
                                    std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
      }
    }
  }
  count(delta);
  return r;
}

Status CodeCache::clear() {
  auto lock = FileLock::exclusive(path("lock"));
  if (!lock.ok()) return lock.status();
  for (const char* sub : {"entries", "models", "tmp"}) {
    std::error_code ec;
    fs::remove_all(path(sub), ec);
    if (ec) return make_error(StatusCode::IoError, "cannot remove '", path(sub), "': ", ec.message());
  }
  ::unlink(path("stats").c_str());
  return ensure_layout();
}

}  // namespace dj::codecache
