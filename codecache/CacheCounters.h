// CacheCounters: the code cache's event counts, kept per process and persisted in
// the cache directory so that `dj cache stats` sees every process's counts.
//
// The persisted file ("stats" in the cache directory) is a few "name value" lines,
// updated read-modify-write under flock(2) on the file itself, so concurrent
// processes never lose an increment. A damaged or missing file reads as zeros
// (the counts are diagnostics, not state anything depends on).
#pragma once

#include <cstdint>
#include <string>

namespace dj::codecache {

struct CacheCounters {
  uint64_t hits = 0;            // lookups that returned a verified entry
  uint64_t misses = 0;          // lookups that returned nothing (includes corrupt and foreign)
  uint64_t corrupt = 0;         // entries found damaged (truncated, checksum, wrong key, bad owner): ignored, removed
  uint64_t foreign = 0;         // entries for another target, toolchain or format version: ignored, removed
  uint64_t stores = 0;          // entries written
  uint64_t store_failures = 0;  // writes that failed (read-only or deleted directory, disk full, over the cap)
  uint64_t evictions = 0;       // entries removed to stay under the size cap

  CacheCounters& operator+=(const CacheCounters& o);
  bool empty() const;
};

// Adds `delta` to the counts in `path` (created 0600 if absent). Errors are ignored.
void add_persisted_counters(const std::string& path, const CacheCounters& delta);
CacheCounters read_persisted_counters(const std::string& path);  // zeros if absent or unreadable

}  // namespace dj::codecache
