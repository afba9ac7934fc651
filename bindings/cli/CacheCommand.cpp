// `dj cache ls | stats | clear | verify | warm`: inspect and maintain the on-disk
// code cache (codecache/CodeCache.h) that every DynaJIT process of this user shares.
// The directory is DJ_CACHE_DIR (or --dir); it is refused, as it is when a model
// loads, if it is not private to this user.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "bindings/cli/CliCommands.h"
#include "codecache/CodeCache.h"
#include "codecache/RegionFingerprint.h"
#include "frontend/OnnxLoader.h"
#include "runtime/JsonWriter.h"
#include "runtime/Region.h"

namespace dj {

int cache_command(const std::vector<std::string>& args);  // declared in CliCommands.h

namespace {

const char kCacheUsage[] =
    "usage: dj cache <ls|stats|clear|verify|warm> [options]\n"
    "\n"
    "The on-disk code cache: compiled specializations (object code + guards + argument\n"
    "layout) that DynaJIT processes store and load instead of compiling again.\n"
    "\n"
    "subcommands:\n"
    "  ls [MODEL]      list entries, most recently used first: key, model, size, kernels,\n"
    "                  compile time it saves, last use, what it is; with MODEL only that\n"
    "                  model's entries (found through its index, by the model's content)\n"
    "  stats [--json]  entries, bytes, the size cap, and the counts of all processes:\n"
    "                  hits, misses, corrupt and foreign entries seen, stores, failed\n"
    "                  stores, evictions\n"
    "  clear           remove every entry and index and reset the counts\n"
    "  verify          read every entry and check its checksum and key; damaged ones are\n"
    "                  removed (they are rebuilt when next needed); stale temporaries of\n"
    "                  crashed writers are removed and indexes compacted\n"
    "  warm MODEL      precompile MODEL for given shapes ahead of deployment ('dj cache warm --help')\n"
    "\n"
    "options:\n"
    "  --dir DIR       the cache directory (default: DJ_CACHE_DIR, else\n"
    "                  $XDG_CACHE_HOME/dynajit, else ~/.cache/dynajit)\n"
    "  -h, --help      this help\n"
    "\n"
    "Environment: DJ_CACHE_DIR (directory), DJ_CACHE_MAX_MB (size cap, default 1024; least\n"
    "recently used entries are evicted past it), DJ_CACHE=off (no cache), DJ_WARM_CACHE=1\n"
    "(load a model's cached code when it loads). The directory must be owned by you and not\n"
    "group- or world-writable: entries are executable code.\n";

std::string format_age(int64_t unix_ms) {
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  int64_t s = std::max<int64_t>(0, (now - unix_ms) / 1000);
  char buf[32];
  if (s < 120) std::snprintf(buf, sizeof buf, "%llds ago", static_cast<long long>(s));
  else if (s < 7200) std::snprintf(buf, sizeof buf, "%lldm ago", static_cast<long long>(s / 60));
  else if (s < 172800) std::snprintf(buf, sizeof buf, "%lldh ago", static_cast<long long>(s / 3600));
  else std::snprintf(buf, sizeof buf, "%lldd ago", static_cast<long long>(s / 86400));
  return buf;
}

void write_counters(JsonWriter& j, const codecache::CacheCounters& c) {
  j.begin_object();
  j.key("hits").value(c.hits).key("misses").value(c.misses).key("corrupt").value(c.corrupt);
  j.key("foreign").value(c.foreign).key("stores").value(c.stores).key("store_failures").value(c.store_failures);
  j.key("evictions").value(c.evictions);
  j.end_object();
}

int cache_ls(codecache::CodeCache& cache, const std::string& model_path) {
  std::vector<codecache::CacheListing> listing = cache.list();
  if (!model_path.empty()) {
    auto loaded = load_model_file(model_path);
    if (!loaded.ok()) return report_error(loaded.status());
    auto plan = RegionPlan::build(loaded.value());
    const std::string model_hex = codecache::fingerprint_model(loaded.value(), *plan).hex();
    std::vector<codecache::Digest256> keys = cache.model_entries(model_hex);
    std::vector<codecache::CacheListing> mine;
    for (const codecache::Digest256& k : keys)
      for (const codecache::CacheListing& l : listing)
        if (l.key_hex == k.hex()) mine.push_back(l);
    std::cout << "model " << model_path << " (fingerprint " << model_hex.substr(0, 12) << "): " << mine.size()
              << " cached entries\n";
    listing = std::move(mine);
  }
  std::printf("%-12s  %-12s  %10s  %7s  %10s  %9s  %s\n", "key", "model", "size", "kernels", "compile", "last used",
              "what");
  for (const codecache::CacheListing& l : listing) {
    if (!l.valid) {
      std::printf("%-12s  %-12s  %10s  %7s  %10s  %9s  DAMAGED: %s\n", l.key_hex.substr(0, 12).c_str(), "?",
                  format_bytes(static_cast<double>(l.file_bytes)).c_str(), "?", "?",
                  format_age(l.last_used_unix_ms).c_str(), l.problem.c_str());
      continue;
    }
    char compile[32];
    std::snprintf(compile, sizeof compile, "%.1f ms", l.entry.compile_ms);
    std::printf("%-12s  %-12s  %10s  %7zu  %10s  %9s  %s\n", l.key_hex.substr(0, 12).c_str(),
                l.entry.model.empty() ? "-" : l.entry.model.substr(0, 12).c_str(),
                format_bytes(static_cast<double>(l.file_bytes)).c_str(), l.entry.objects.size(), compile,
                format_age(l.last_used_unix_ms).c_str(), l.entry.description.c_str());
  }
  std::cout << listing.size() << " entries in " << cache.dir() << "\n";
  return 0;
}

int cache_stats(codecache::CodeCache& cache, bool json) {
  codecache::CacheStats s = cache.stats();
  if (json) {
    JsonWriter j;
    j.begin_object();
    j.key("dir").value(cache.dir());
    j.key("entries").value(s.entries).key("bytes").value(s.bytes).key("max_bytes").value(s.max_bytes);
    j.key("models").value(s.models);
    j.key("counts");
    write_counters(j, s.all_processes);
    j.end_object();
    std::cout << j.str() << "\n";
    return 0;
  }
  const codecache::CacheCounters& c = s.all_processes;
  std::cout << "cache directory: " << cache.dir() << "\n"
            << "entries:         " << s.entries << " (" << s.models << " models indexed)\n"
            << "size:            " << format_bytes(static_cast<double>(s.bytes)) << " of "
            << format_bytes(static_cast<double>(s.max_bytes)) << " (DJ_CACHE_MAX_MB)\n"
            << "counts (all processes since the last clear):\n"
            << "  hits            " << c.hits << "\n"
            << "  misses          " << c.misses << "\n"
            << "  corrupt entries " << c.corrupt << "\n"
            << "  foreign entries " << c.foreign << "\n"
            << "  stores          " << c.stores << "\n"
            << "  failed stores   " << c.store_failures << "\n"
            << "  evictions       " << c.evictions << "\n";
  return 0;
}

int cache_verify(codecache::CodeCache& cache) {
  codecache::VerifyReport r = cache.verify();
  for (const std::string& p : r.problems) std::cout << "bad entry " << p << "\n";
  std::cout << "checked " << r.checked << " entries: " << r.ok << " ok, " << r.corrupt << " corrupt, " << r.foreign
            << " foreign; removed " << r.removed << "; removed " << r.stale_temporaries << " stale temporary files and "
            << r.index_lines_dropped << " stale index lines\n";
  return r.corrupt + r.foreign == 0 ? 0 : 1;
}

}  // namespace

int cache_command(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "warm") return cache_warm_command(std::vector<std::string>(args.begin() + 1, args.end()));
  std::string sub, dir, model;
  bool json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    bool missing = false;
    if (a == "-h" || a == "--help") {
      std::cout << kCacheUsage;
      return 0;
    }
    if (take_flag_value(args, i, "--dir", dir, missing)) {
      if (missing) return report_usage_error("--dir needs a directory", "cache");
      continue;
    }
    if (a == "--json") {
      json = true;
    } else if (!a.empty() && a[0] == '-') {
      return report_usage_error("unknown option '" + a + "'", "cache");
    } else if (sub.empty()) {
      sub = a;
    } else if (sub == "ls" && model.empty()) {
      model = a;
    } else {
      return report_usage_error("unexpected argument '" + a + "'", "cache");
    }
  }
  if (sub.empty()) return report_usage_error("no subcommand given (ls, stats, clear, verify or warm)", "cache");
  if (sub != "ls" && sub != "stats" && sub != "clear" && sub != "verify" && sub != "warm")
    return report_usage_error("unknown subcommand '" + sub + "'", "cache");
  if (json && sub != "stats") return report_usage_error("--json is only for 'dj cache stats'", "cache");

  codecache::CodeCacheOptions options = codecache::CodeCacheOptions::from_environment();
  if (!dir.empty()) options.dir = dir;

  if (options.dir.empty())
    return report_error(Status(StatusCode::InvalidArgument, "no cache directory: set DJ_CACHE_DIR or HOME, or pass --dir"));
  auto cache = codecache::CodeCache::open(options);
  if (!cache.ok()) return report_error(cache.status());

  if (sub == "ls") return cache_ls(*cache.value(), model);
  if (sub == "stats") return cache_stats(*cache.value(), json);
  if (sub == "verify") return cache_verify(*cache.value());
  codecache::CacheStats before = cache.value()->stats();
  Status st = cache.value()->clear();
  if (!st.ok()) return report_error(st);
  std::cout << "removed " << before.entries << " entries (" << format_bytes(static_cast<double>(before.bytes))
            << ") from " << cache.value()->dir() << "\n";
  return 0;
}

}  // namespace dj
