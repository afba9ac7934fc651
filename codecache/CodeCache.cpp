// CodeCache: opening the directory, lookups, stores and the per-model index.
// Maintenance (listing, stats, verify, clear, eviction) is in CodeCacheMaintenance.cpp.
#include "codecache/CodeCache.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <set>

#include "codecache/CacheDirectory.h"
#include "codecache/CacheKey.h"
#include "runtime/Log.h"

namespace dj::codecache {
namespace {

// No object we write comes near this; larger files are not ours.
constexpr uint64_t kMaxEntryFileBytes = uint64_t{2} << 30;

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

}  // namespace

const char* lookup_outcome_name(LookupOutcome outcome) {
  switch (outcome) {
    case LookupOutcome::Hit: return "hit";
    case LookupOutcome::Miss: return "miss";
    case LookupOutcome::Corrupt: return "corrupt";
    case LookupOutcome::Foreign: return "foreign";
  }
  return "?";
}

std::string default_cache_dir() {
  std::string dir = env_or_empty("DJ_CACHE_DIR");
  if (!dir.empty()) return dir;
  std::string xdg = env_or_empty("XDG_CACHE_HOME");
  if (!xdg.empty() && xdg[0] == '/') return xdg + "/dynajit";  // XDG: relative paths are invalid, ignore them
  std::string home = env_or_empty("HOME");
  if (home.empty()) {
    if (const passwd* pw = ::getpwuid(::geteuid()); pw && pw->pw_dir) home = pw->pw_dir;
  }
  if (home.empty()) return "";
  return home + "/.cache/dynajit";
}

CodeCacheOptions CodeCacheOptions::from_environment() {
  CodeCacheOptions o;
  o.dir = default_cache_dir();
  std::string cap = env_or_empty("DJ_CACHE_MAX_MB");
  if (!cap.empty()) {
    char* end = nullptr;
    unsigned long long mb = std::strtoull(cap.c_str(), &end, 10);
    if (end != cap.c_str() && *end == '\0') {
      o.max_bytes = static_cast<uint64_t>(mb) << 20;
    } else {
      DJ_LOG_WARN("DJ_CACHE_MAX_MB='" << cap << "' is not a number of MiB; using " << (o.max_bytes >> 20));
    }
  }
  return o;
}

Expected<std::shared_ptr<CodeCache>> CodeCache::open(CodeCacheOptions options) {
  while (options.dir.size() > 1 && options.dir.back() == '/') options.dir.pop_back();
  std::shared_ptr<CodeCache> cache(new CodeCache(std::move(options)));
  DJ_RETURN_IF_ERROR(cache->ensure_layout());
  return cache;
}

std::shared_ptr<CodeCache> CodeCache::open_from_environment(const std::string& target, const std::string& versions) {
  std::string mode = env_or_empty("DJ_CACHE");
  if (mode == "off" || mode == "0") return nullptr;
  CodeCacheOptions o = CodeCacheOptions::from_environment();
  o.target = target;
  o.versions = versions;
  if (o.dir.empty()) {
    DJ_LOG_WARN("code cache disabled: no cache directory (set DJ_CACHE_DIR or HOME)");
    return nullptr;
  }
  auto cache = open(o);
  if (!cache.ok()) {
    DJ_LOG_WARN("code cache disabled: " << cache.status().message());
    return nullptr;
  }
  return cache.value();
}

Status CodeCache::ensure_layout() const {
  DJ_RETURN_IF_ERROR(ensure_private_directory(options_.dir));
  for (const char* sub : {"entries", "models", "tmp"}) {
    std::string p = path(sub);
    if (::mkdir(p.c_str(), 0700) != 0 && errno != EEXIST)
      return make_error(StatusCode::IoError, "cannot create '", p, "': ", errno_text(errno));
  }
  return Status::ok_status();
}

std::string CodeCache::entry_path(const Digest256& key) const {
  std::string hex = key.hex();
  return options_.dir + "/entries/" + hex.substr(0, 2) + "/" + hex + ".djc";
}

void CodeCache::count(const CacheCounters& delta) {
  {
    std::lock_guard<std::mutex> lock(counters_mutex_);
    counters_ += delta;
  }
  add_persisted_counters(path("stats"), delta);
}

LookupResult CodeCache::lookup(const Digest256& key) {
  LookupResult result;
  const std::string file_path = entry_path(key);
  FileIdentity identity;
  auto read = read_private_file(file_path, kMaxEntryFileBytes, &identity);
  CacheCounters delta;
  delta.misses = 1;
  if (!read.ok()) {
    // Not a regular file of ours, or unreadable: never loaded. Left in place, since
    // it may not be ours to delete.
    result.outcome = LookupOutcome::Corrupt;
    result.problem = read.status().message();
    delta.corrupt = 1;
    count(delta);
    DJ_LOG_WARN("code cache: ignoring entry " << key.short_hex() << ": " << result.problem);
    return result;
  }
  if (!read.value()) {
    count(delta);
    return result;  // Miss
  }
  DecodedEntry decoded = decode_entry(*read.value());
  if (decoded.problem == DecodeProblem::None) {
    const CacheEntry& e = decoded.entry;
    if (e.key != key) {
      decoded.problem = DecodeProblem::Corrupt;
      decoded.why = "holds the entry of key " + e.key.short_hex() + " (replaced by another entry)";
    } else if (!options_.target.empty() && e.target != options_.target) {
      decoded.problem = DecodeProblem::OtherFormat;
      decoded.why = "compiled for target '" + e.target + "', this process runs '" + options_.target + "'";
    } else if (!options_.versions.empty() && e.versions != options_.versions) {
      decoded.problem = DecodeProblem::OtherFormat;
      decoded.why = "compiled by '" + e.versions + "', this process is '" + options_.versions + "'";
    }
  }
  if (decoded.problem != DecodeProblem::None) {
    const bool foreign = decoded.problem == DecodeProblem::OtherFormat;
    result.outcome = foreign ? LookupOutcome::Foreign : LookupOutcome::Corrupt;
    result.problem = decoded.why;
    (foreign ? delta.foreign : delta.corrupt) = 1;
    count(delta);
    // Removed so the rebuilt entry can take its place; only if no other process has
    // renamed a fresh entry over it since we read it.
    remove_if_same_file(file_path, identity);
    DJ_LOG_WARN("code cache: ignoring " << (foreign ? "foreign" : "damaged") << " entry " << key.short_hex() << ": "
                                        << result.problem << "; it will be rebuilt");
    return result;
  }
  touch_file(file_path);  // the LRU clock
  result.outcome = LookupOutcome::Hit;
  result.entry = std::move(decoded.entry);
  delta.misses = 0;
  delta.hits = 1;
  count(delta);
  return result;
}

Status CodeCache::write_entry(const CacheEntry& entry, const std::vector<uint8_t>& file) {
  const std::string final_path = entry_path(entry.key);
  const std::string shard = final_path.substr(0, final_path.rfind('/'));
  Status st = Status::ok_status();
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (::mkdir(shard.c_str(), 0700) != 0 && errno != EEXIST) {
      st = make_error(StatusCode::IoError, "cannot create '", shard, "': ", errno_text(errno));
    } else {
      st = write_file_atomically(path("tmp"), final_path, file);
    }
    if (st.ok() || attempt == 1) break;
    // The directory may have been deleted while we run: re-create it (checking it
    // again) and retry once.
    Status layout = ensure_layout();
    if (!layout.ok()) return layout;
  }
  return st;
}

Status CodeCache::store(CacheEntry entry) {
  if (entry.target.empty()) entry.target = options_.target;
  if (entry.versions.empty()) entry.versions = options_.versions;
  if (entry.created_unix_ms == 0) entry.created_unix_ms = now_unix_ms();
  std::vector<uint8_t> file = encode_entry(entry);
  Status st = Status::ok_status();
  if (file.size() > options_.max_bytes) {
    st = make_error(StatusCode::IoError, "cache entry ", entry.key.short_hex(), " is ", file.size(),
                    " bytes, more than the cache cap of ", options_.max_bytes, " (DJ_CACHE_MAX_MB)");
  } else {
    st = write_entry(entry, file);
  }
  if (st.ok()) {
    auto lock = FileLock::exclusive(path("lock"));
    if (lock.ok()) {
      if (!entry.model.empty()) st = append_to_index(entry.model, entry.key);
      evict_over_cap(entry.key);
    } else {
      st = lock.status();
    }
  }
  CacheCounters delta;
  (st.ok() ? delta.stores : delta.store_failures) = 1;
  count(delta);
  if (!st.ok()) {
    st = st.with_context("code cache store failed: ");
    if (!warned_store_failure_.exchange(true)) {
      DJ_LOG_WARN(st.message() << " (compiled code still runs; it is just not kept)");
    } else {
      DJ_LOG_DEBUG(st.message());
    }
  }
  return st;
}

Status CodeCache::append_to_index(const std::string& model_hex, const Digest256& key) {
  if (!Digest256::from_hex(model_hex))
    return make_error(StatusCode::InvalidArgument, "model fingerprint '", model_hex, "' is not 64 hex digits");
  const std::string index = options_.dir + "/models/" + model_hex + ".idx";
  int fd = ::open(index.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return make_error(StatusCode::IoError, "cannot open '", index, "': ", errno_text(errno));
  const std::string line = key.hex() + "\n";
  ssize_t n = ::write(fd, line.data(), line.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size()))
    return make_error(StatusCode::IoError, "cannot append to '", index, "': ", errno_text(n < 0 ? err : ENOSPC));
  return Status::ok_status();
}

std::vector<Digest256> CodeCache::model_entries(const std::string& model_hex) const {
  std::vector<Digest256> keys;
  if (!Digest256::from_hex(model_hex)) return keys;
  auto read = read_private_file(options_.dir + "/models/" + model_hex + ".idx", kMaxEntryFileBytes);
  if (!read.ok() || !read.value()) return keys;
  const std::vector<uint8_t>& bytes = *read.value();
  std::set<Digest256> seen;
  size_t start = 0;
  for (size_t i = 0; i <= bytes.size(); ++i) {
    if (i < bytes.size() && bytes[i] != '\n') continue;
    // A line cut short by a writer that ran out of space parses as nothing.
    auto key = Digest256::from_hex(std::string_view(reinterpret_cast<const char*>(bytes.data()) + start, i - start));
    start = i + 1;
    if (!key || !seen.insert(*key).second) continue;
    struct stat st;
    if (::stat(entry_path(*key).c_str(), &st) == 0) keys.push_back(*key);
  }
  return keys;
}

LookupResult CodeCache::lookup_runtime_object() { return lookup(runtime_object_key(options_.target, options_.versions)); }

Status CodeCache::store_runtime_object(std::vector<uint8_t> object, double compile_ms) {
  CacheEntry e;
  e.key = runtime_object_key(options_.target, options_.versions);
  e.description = "Halide runtime";
  e.compile_ms = compile_ms;
  CacheObject o;
  o.name = "halide_runtime";
  o.bytes = std::move(object);
  e.objects.push_back(std::move(o));
  return store(std::move(e));
}

}  // namespace dj::codecache
