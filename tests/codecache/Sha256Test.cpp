// SHA-256 against the published FIPS 180-2 / NIST CAVS test vectors, incremental
// updates split at every awkward boundary, and Digest256's hex round trip.
#include <gtest/gtest.h>

#include <string>

#include "codecache/Sha256.h"

namespace dj::codecache {
namespace {

TEST(Sha256, PublishedTestVectors) {
  EXPECT_EQ(Sha256::of("").hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256::of("abc").hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256::of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").hex(),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256::of("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                       "mnopqrstnopqrstu")
                .hex(),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  EXPECT_EQ(Sha256::of(std::string(1000000, 'a')).hex(),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // NIST CAVS SHA256ShortMsg: one byte 0xbd, and four bytes c98c8e55.
  const unsigned char bd = 0xbd;
  EXPECT_EQ(Sha256::of(&bd, 1).hex(), "68325720aabd7c82f30f554b313d0570c95accbb7dc4b5aae11204c08ffe732b");
  const unsigned char four[] = {0xc9, 0x8c, 0x8e, 0x55};
  EXPECT_EQ(Sha256::of(four, 4).hex(), "7abc22c0ae5af26ce93dbb94433a0e0b2e119d014f8e7f65bd56c61ccccd9504");
}

TEST(Sha256, IncrementalUpdatesEqualOneShot) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data += static_cast<char>(i * 7 + 3);
  const Digest256 whole = Sha256::of(data);
  // Split points around the 64-byte block and the 56-byte padding boundary.
  for (size_t chunk : {1u, 3u, 55u, 56u, 63u, 64u, 65u, 127u, 999u}) {
    Sha256 h;
    for (size_t pos = 0; pos < data.size(); pos += chunk) h.update(std::string_view(data).substr(pos, chunk));
    EXPECT_EQ(h.finish(), whole) << "chunk size " << chunk;
  }
  // Lengths 55, 56, 64 need one or two padding blocks: each must differ from its neighbours.
  EXPECT_NE(Sha256::of(data.substr(0, 55)), Sha256::of(data.substr(0, 56)));
  EXPECT_NE(Sha256::of(data.substr(0, 64)), Sha256::of(data.substr(0, 63)));
}

TEST(Sha256, DigestHexRoundTrip) {
  Digest256 d = Sha256::of("abc");
  auto back = Digest256::from_hex(d.hex());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, d);
  std::string upper = d.hex();
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(Digest256::from_hex(upper), d);
  EXPECT_FALSE(Digest256::from_hex(d.hex().substr(1)).has_value());
  EXPECT_FALSE(Digest256::from_hex(d.hex().substr(1) + "g").has_value());
  EXPECT_EQ(d.short_hex(), "ba7816bf8f01");
}

}  // namespace
}  // namespace dj::codecache
