// Key derivation: length-prefixed fields into SHA-256 (see CacheKey.h).
#include "codecache/CacheKey.h"

namespace dj::codecache {
namespace {

void put_i64(Sha256& h, int64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i));
  h.update(b, 8);
}

void put_str(Sha256& h, const std::string& s) {
  put_i64(h, static_cast<int64_t>(s.size()));
  h.update(s);
}

}  // namespace

Digest256 compute_cache_key(const CacheKeyParts& parts) {
  Sha256 h;
  put_str(h, "dynajit-specialization-v1");
  h.update(parts.region.bytes.data(), parts.region.bytes.size());
  put_i64(h, static_cast<int64_t>(parts.signature.size()));
  for (int64_t w : parts.signature) put_i64(h, w);
  put_str(h, parts.specialization);
  put_str(h, parts.target);
  put_str(h, parts.versions);
  return h.finish();
}

Digest256 runtime_object_key(const std::string& target, const std::string& versions) {
  Sha256 h;
  put_str(h, "dynajit-halide-runtime-v1");
  put_str(h, target);
  put_str(h, versions);
  return h.finish();
}

}  // namespace dj::codecache
