// Entry encoding: a bounds-checked reader over the body; every failure is a
// DecodeProblem with a reason, never an out-of-bounds read.
#include "codecache/CacheEntry.h"

#include <cstring>

namespace dj::codecache {
namespace {

constexpr char kMagic[8] = {'D', 'J', 'C', 'A', 'C', 'H', 'E', '\0'};
constexpr size_t kHeaderBytes = 24;
constexpr size_t kChecksumBytes = 32;

void put_u64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_bytes(std::vector<uint8_t>& out, const void* data, size_t n) {
  put_u64(out, n);
  const auto* p = static_cast<const uint8_t*>(data);
  out.insert(out.end(), p, p + n);
}
void put_str(std::vector<uint8_t>& out, const std::string& s) { put_bytes(out, s.data(), s.size()); }

uint64_t get_u64_at(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

class BodyReader {
 public:
  explicit BodyReader(std::span<const uint8_t> body) : body_(body) {}
  bool u64(uint64_t& v) {
    if (body_.size() - pos_ < 8) return false;
    v = get_u64_at(body_.data() + pos_);
    pos_ += 8;
    return true;
  }
  bool raw(void* out, size_t n) {
    if (body_.size() - pos_ < n) return false;
    std::memcpy(out, body_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool str(std::string& s) {
    uint64_t n;
    if (!u64(n) || n > body_.size() - pos_) return false;
    s.assign(reinterpret_cast<const char*>(body_.data() + pos_), n);
    pos_ += n;
    return true;
  }
  bool bytes(std::vector<uint8_t>& b) {
    uint64_t n;
    if (!u64(n) || n > body_.size() - pos_) return false;
    b.assign(body_.data() + pos_, body_.data() + pos_ + n);
    pos_ += n;
    return true;
  }
  bool at_end() const { return pos_ == body_.size(); }

 private:
  std::span<const uint8_t> body_;
  size_t pos_ = 0;
};

DecodedEntry problem(DecodeProblem p, std::string why) {
  DecodedEntry d;
  d.problem = p;
  d.why = std::move(why);
  return d;
}

}  // namespace

size_t CacheEntry::object_bytes() const {
  size_t n = 0;
  for (const CacheObject& o : objects) n += o.bytes.size();
  return n;
}

std::vector<uint8_t> encode_entry(const CacheEntry& entry) {
  std::vector<uint8_t> body;
  body.reserve(512 + entry.object_bytes() + entry.metadata.size());
  body.insert(body.end(), entry.key.bytes.begin(), entry.key.bytes.end());
  put_str(body, entry.model);
  put_str(body, entry.target);
  put_str(body, entry.versions);
  put_str(body, entry.description);
  put_str(body, entry.metadata);
  uint64_t ms_bits;
  std::memcpy(&ms_bits, &entry.compile_ms, 8);
  put_u64(body, ms_bits);
  put_u64(body, static_cast<uint64_t>(entry.created_unix_ms));
  put_u64(body, entry.objects.size());
  for (const CacheObject& o : entry.objects) {
    put_str(body, o.name);
    put_str(body, o.entry_symbol);
    put_str(body, o.metadata);
    put_bytes(body, o.bytes.data(), o.bytes.size());
  }

  std::vector<uint8_t> file;
  file.reserve(kHeaderBytes + body.size() + kChecksumBytes);
  file.insert(file.end(), kMagic, kMagic + 8);
  for (int i = 0; i < 4; ++i) file.push_back(static_cast<uint8_t>(kEntryFormatVersion >> (8 * i)));
  for (int i = 0; i < 4; ++i) file.push_back(0);
  put_u64(file, body.size());
  file.insert(file.end(), body.begin(), body.end());
  Digest256 sum = Sha256::of(file.data(), file.size());
  file.insert(file.end(), sum.bytes.begin(), sum.bytes.end());
  return file;
}

DecodedEntry decode_entry(std::span<const uint8_t> file) {
  if (file.size() < kHeaderBytes + kChecksumBytes)
    return problem(DecodeProblem::Corrupt, "truncated: " + std::to_string(file.size()) + " bytes, shorter than a header");
  if (std::memcmp(file.data(), kMagic, 8) != 0) return problem(DecodeProblem::Corrupt, "not a DynaJIT cache entry (bad magic)");
  uint32_t format = 0;
  for (int i = 0; i < 4; ++i) format |= static_cast<uint32_t>(file[8 + i]) << (8 * i);
  if (format != kEntryFormatVersion)
    return problem(DecodeProblem::OtherFormat, "entry format " + std::to_string(format) + ", this build reads " +
                                                   std::to_string(kEntryFormatVersion));
  const uint64_t body_size = get_u64_at(file.data() + 16);
  const uint64_t expected = kHeaderBytes + body_size + kChecksumBytes;
  if (body_size > file.size() || file.size() != expected)
    return problem(DecodeProblem::Corrupt, "truncated or padded: " + std::to_string(file.size()) + " bytes, header says " +
                                               std::to_string(body_size > file.size() ? body_size : expected));
  const size_t summed = kHeaderBytes + body_size;
  Digest256 sum = Sha256::of(file.data(), summed);
  if (std::memcmp(sum.bytes.data(), file.data() + summed, kChecksumBytes) != 0)
    return problem(DecodeProblem::Corrupt, "checksum mismatch");

  DecodedEntry d;
  CacheEntry& e = d.entry;
  BodyReader r(file.subspan(kHeaderBytes, body_size));
  uint64_t ms_bits = 0, created = 0, count = 0;
  bool ok = r.raw(e.key.bytes.data(), 32) && r.str(e.model) && r.str(e.target) && r.str(e.versions) &&
            r.str(e.description) && r.str(e.metadata) && r.u64(ms_bits) && r.u64(created) && r.u64(count);
  // Each object takes at least 32 bytes of length fields: bounds `count` before reserving.
  if (ok && count > body_size / 32) ok = false;
  for (uint64_t i = 0; ok && i < count; ++i) {
    CacheObject o;
    ok = r.str(o.name) && r.str(o.entry_symbol) && r.str(o.metadata) && r.bytes(o.bytes);
    if (ok) e.objects.push_back(std::move(o));
  }
  if (!ok || !r.at_end()) return problem(DecodeProblem::Corrupt, "malformed body (checksum matched: written by a bug?)");
  std::memcpy(&e.compile_ms, &ms_bits, 8);
  e.created_unix_ms = static_cast<int64_t>(created);
  return d;
}

}  // namespace dj::codecache
