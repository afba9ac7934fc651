// CodeCache: the persistent, content-addressed store of compiled specializations,
// shared by every DynaJIT process of one user.
//
// Layout of the cache directory (DJ_CACHE_DIR; default $XDG_CACHE_HOME/dynajit or
// ~/.cache/dynajit), every directory 0700 and every file 0600:
//   entries/ab/<64 hex key>.djc   one CacheEntry (CacheEntry.h), named by its key
//   models/<64 hex model>.idx     per-model index: keys stored for that model, one a line
//   tmp/                          temporary files, renamed into place when complete
//   lock                          flock: index appends, eviction, clear
//   stats                         counters of all processes (CacheCounters.h)
// Invariants and guarantees:
// - Writes are atomic (temp + rename); a reader sees no entry or a complete one.
// - lookup() returns an entry only after its checksum, key, target and versions
//   all check out. A damaged entry is counted (corrupt), removed and reported as
//   such, so the caller rebuilds and stores it again; an entry for another target,
//   toolchain or format is counted (foreign) and removed the same way. Never a crash.
// - The directory must be the user's own and not group/world-writable (open()
//   refuses it otherwise: entries are executable code).
// - Size cap (DJ_CACHE_MAX_MB, default 1024): after each store, least recently used
//   entries (mtime, refreshed on every hit) are evicted until the total fits; the
//   entry just stored is never the one evicted, and an entry larger than the cap is
//   refused.
// - A read-only, full or deleted directory makes stores fail (Status, counted) and
//   lookups miss; a deleted directory is re-created on the next store.
// - Thread-safe and multi-process-safe; lookups take no lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "codecache/CacheCounters.h"
#include "codecache/CacheEntry.h"
#include "codecache/Sha256.h"
#include "runtime/Status.h"

namespace dj::codecache {

struct CodeCacheOptions {
  std::string dir;
  uint64_t max_bytes = uint64_t{1024} << 20;
  // What this process can load. Entries that say otherwise are foreign. Empty: not
  // checked (tools such as `dj cache ls` that only inspect).
  std::string target;
  std::string versions;

  // dir from DJ_CACHE_DIR / XDG_CACHE_HOME / HOME, max_bytes from DJ_CACHE_MAX_MB.
  static CodeCacheOptions from_environment();
};

std::string default_cache_dir();  // DJ_CACHE_DIR, else $XDG_CACHE_HOME/dynajit, else ~/.cache/dynajit

enum class LookupOutcome { Hit, Miss, Corrupt, Foreign };
const char* lookup_outcome_name(LookupOutcome outcome);

struct LookupResult {
  LookupOutcome outcome = LookupOutcome::Miss;
  CacheEntry entry;     // valid only for Hit
  std::string problem;  // Corrupt/Foreign: what was wrong ("checksum mismatch", "target ... not ...")
  bool hit() const { return outcome == LookupOutcome::Hit; }
};

// One stored entry as `dj cache ls` shows it.
struct CacheListing {
  std::string key_hex;
  uint64_t file_bytes = 0;
  int64_t last_used_unix_ms = 0;  // file mtime
  bool valid = false;             // decoded and checksum-verified
  std::string problem;            // why not valid
  CacheEntry entry;               // header fields (objects' bytes dropped) when valid
};

struct CacheStats {
  uint64_t entries = 0;
  uint64_t bytes = 0;
  uint64_t max_bytes = 0;
  uint64_t models = 0;          // per-model index files
  CacheCounters all_processes;  // persisted in the directory
  CacheCounters this_cache;     // this CodeCache object only
};

struct VerifyReport {
  uint64_t checked = 0;
  uint64_t ok = 0;
  uint64_t corrupt = 0;
  uint64_t foreign = 0;           // only counted when options name a target/versions
  uint64_t removed = 0;           // damaged entries deleted (foreign ones are kept for the builds that can load them)
  uint64_t stale_temporaries = 0; // leftover tmp/ files of crashed writers, deleted
  uint64_t index_lines_dropped = 0;
  std::vector<std::string> problems;  // "<key>: <why>"
};

class CodeCache {
 public:
  // Creates the directory layout if needed and checks that the directory is private.
  static Expected<std::shared_ptr<CodeCache>> open(CodeCacheOptions options);
  // The process's cache from the environment: nullptr when DJ_CACHE=off, or when the
  // directory is refused or unusable (a warning is logged once, naming the reason).
  static std::shared_ptr<CodeCache> open_from_environment(const std::string& target, const std::string& versions);

  const CodeCacheOptions& options() const { return options_; }
  const std::string& dir() const { return options_.dir; }
  std::string entry_path(const Digest256& key) const;

  LookupResult lookup(const Digest256& key);
  // Stores `entry` under entry.key (replacing any entry there) and adds the key to
  // the index of entry.model. Empty target/versions are filled from the options,
  // a zero created_unix_ms with now.
  Status store(CacheEntry entry);
  // Keys stored for a model (fingerprint_model().hex()), oldest first, without
  // duplicates or keys whose entry is gone. Cheap: reads one index file.
  std::vector<Digest256> model_entries(const std::string& model_hex) const;

  // The Halide runtime object for options().target/versions (key runtime_object_key()).
  LookupResult lookup_runtime_object();
  Status store_runtime_object(std::vector<uint8_t> object, double compile_ms);

  // Maintenance (`dj cache ...`).
  std::vector<CacheListing> list() const;
  CacheStats stats() const;
  // Reads every entry; removes damaged ones, stale temporaries and index lines of
  // entries that are gone. Foreign entries (when options name a target/versions)
  // are reported, not removed.
  VerifyReport verify();
  Status clear();         // removes every entry and index, resets the counters

 private:
  explicit CodeCache(CodeCacheOptions options) : options_(std::move(options)) {}
  Status ensure_layout() const;
  void count(const CacheCounters& delta);
  Status write_entry(const CacheEntry& entry, const std::vector<uint8_t>& file);
  Status append_to_index(const std::string& model_hex, const Digest256& key);
  // Under the directory lock: LRU eviction down to the cap, sparing `keep`.
  void evict_over_cap(const Digest256& keep);
  std::string path(const char* relative) const { return options_.dir + "/" + relative; }

  CodeCacheOptions options_;
  mutable std::mutex counters_mutex_;
  CacheCounters counters_;
  std::atomic<bool> warned_store_failure_{false};
};

}  // namespace dj::codecache
