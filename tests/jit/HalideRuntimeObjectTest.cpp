// HalideRuntimeObject: the runtime embedded at build time is an object for the
// host's OS/arch (every other JIT test links its kernels against it), the
// DJ_HALIDE_RUNTIME=compile switch skips it, and compiling one still works.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "Halide.h"
#include "jit/HalideRuntimeObject.h"
#include "jit/HostTarget.h"

namespace dj::jit {
namespace {

bool is_relocatable_elf(const uint8_t* bytes, size_t size) {
  // ELF magic, then e_type (offset 16, little-endian) == ET_REL (1).
  return size > 64 && std::memcmp(bytes, "\x7f" "ELF", 4) == 0 && bytes[16] == 1 && bytes[17] == 0;
}

TEST(HalideRuntimeObject, TheEmbeddedRuntimeFitsTheHost) {
  if (embedded_halide_runtime_target().empty()) GTEST_SKIP() << "built with DJ_EMBED_HALIDE_RUNTIME=OFF";
  const Halide::Target embedded(embedded_halide_runtime_target());
  const Halide::Target& host = host_halide_target();
  EXPECT_EQ(embedded.os, host.os);
  EXPECT_EQ(embedded.arch, host.arch);
  EXPECT_EQ(embedded.bits, host.bits);
  auto bytes = embedded_halide_runtime_object();
  ASSERT_TRUE(bytes.has_value());
  EXPECT_TRUE(is_relocatable_elf(bytes->data(), bytes->size())) << bytes->size() << " bytes";
  auto chosen = halide_runtime_object();
  ASSERT_TRUE(chosen.ok()) << chosen.status().message();
  EXPECT_EQ(chosen->size(), bytes->size());
}

TEST(HalideRuntimeObject, CompileModeSkipsTheEmbeddedObjectAndCompilingStillWorks) {
  ::setenv("DJ_HALIDE_RUNTIME", "compile", 1);
  EXPECT_FALSE(embedded_halide_runtime_object().has_value());
  ::unsetenv("DJ_HALIDE_RUNTIME");
  auto compiled = compile_halide_runtime_object();
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  EXPECT_TRUE(is_relocatable_elf(compiled->data(), compiled->size())) << compiled->size() << " bytes";
}

}  // namespace
}  // namespace dj::jit
