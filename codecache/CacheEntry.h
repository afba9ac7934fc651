// CacheEntry: one stored specialization — its object files and metadata — and its
// on-disk encoding, which is self-checking.
//
// File layout (little-endian):
//   [0, 8)    magic "DJCACHE\0"
//   [8, 12)   format version (kEntryFormatVersion)
//   [12, 16)  zero
//   [16, 24)  body size B
//   [24, 24+B) body: key, model, target, versions, description, metadata,
//             compile_ms, created_unix_ms, objects (name, entry symbol, metadata, bytes)
//   last 32   SHA-256 of everything before it
// decode_entry() accepts a file only if its size is exactly 24+B+32, the checksum
// matches, and every field parses inside the body: a truncated, bit-flipped or
// otherwise damaged file is reported, never half-read. What the metadata strings
// mean is the caller's business (the specializer's JSON: guards, argument layout,
// views); this layer only carries them.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "codecache/Sha256.h"
#include "runtime/Status.h"

namespace dj::codecache {

constexpr uint32_t kEntryFormatVersion = 1;

struct CacheObject {
  std::string name;           // kernel (function) name
  std::string entry_symbol;   // symbol to resolve after loading ("<name>_argv")
  std::string metadata;       // per-kernel, caller-defined (e.g. its argument signature)
  std::vector<uint8_t> bytes; // the object file (ELF; later a cubin)
};

struct CacheEntry {
  Digest256 key;              // compute_cache_key() of what it was compiled for
  std::string model;          // fingerprint_model().hex() of the model it came from ("" for none)
  std::string target;         // host target key it was compiled for
  std::string versions;       // toolchain versions it was compiled with
  std::string description;    // one line for `dj cache ls` ("R3 4x16:f32 exact")
  std::string metadata;       // per-entry, caller-defined (guards, argument layout, ...)
  double compile_ms = 0;      // what compiling it cost (what a hit saves)
  int64_t created_unix_ms = 0;
  std::vector<CacheObject> objects;

  size_t object_bytes() const;
};

std::vector<uint8_t> encode_entry(const CacheEntry& entry);

enum class DecodeProblem { None, Corrupt, OtherFormat };
struct DecodedEntry {
  DecodeProblem problem = DecodeProblem::None;
  std::string why;  // set when problem != None: "checksum mismatch", "truncated: 100 of 4120 bytes", ...
  CacheEntry entry;
};
DecodedEntry decode_entry(std::span<const uint8_t> file);

}  // namespace dj::codecache
