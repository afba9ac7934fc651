// Sha256: SHA-256 (FIPS 180-4), self-contained, and Digest256, the 32-byte value
// the code cache uses for content addresses, entry checksums and fingerprints.
//
// Why SHA-256 and not a fast non-cryptographic hash: cache keys name executable
// code shared between processes, so two different regions must never collide,
// even adversarially. Tested against the FIPS/NIST test vectors
// (tests/codecache/Sha256Test.cpp). Incremental: update() any number of times,
// then finish() once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dj::codecache {

struct Digest256 {
  std::array<uint8_t, 32> bytes{};

  std::string hex() const;                  // 64 lowercase hex digits
  std::string short_hex() const { return hex().substr(0, 12); }
  static std::optional<Digest256> from_hex(std::string_view hex);  // nullopt unless 64 hex digits
  bool operator==(const Digest256&) const = default;
  auto operator<=>(const Digest256&) const = default;
};

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  Digest256 finish();  // the object must not be updated afterwards

  static Digest256 of(const void* data, size_t size);
  static Digest256 of(std::string_view s) { return of(s.data(), s.size()); }

 private:
  void compress(const uint8_t* block);
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

}  // namespace dj::codecache
