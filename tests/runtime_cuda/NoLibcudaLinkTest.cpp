// The built binaries must not depend on libcuda: a machine without the NVIDIA driver
// has to start them. Reads each ELF file's dynamic section (DT_NEEDED entries) directly.
#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "runtime/Status.h"

namespace dj {
namespace {

// The DT_NEEDED names of a 64-bit little-endian ELF file (executable or shared object).
Expected<std::vector<std::string>> needed_libraries(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  DJ_CHECK(in, IoError, "cannot open ", path);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto within = [&](uint64_t offset, uint64_t size) { return offset <= bytes.size() && size <= bytes.size() - offset; };
  DJ_CHECK(within(0, sizeof(Elf64_Ehdr)), InvalidArgument, path, " is too short for an ELF header");
  Elf64_Ehdr eh;
  std::memcpy(&eh, bytes.data(), sizeof eh);
  DJ_CHECK(std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64, InvalidArgument, path,
           " is not a 64-bit ELF file");
  DJ_CHECK(eh.e_shentsize == sizeof(Elf64_Shdr) && within(eh.e_shoff, uint64_t(eh.e_shnum) * sizeof(Elf64_Shdr)),
           InvalidArgument, path, ": bad section header table");
  std::vector<Elf64_Shdr> sections(eh.e_shnum);
  std::memcpy(sections.data(), bytes.data() + eh.e_shoff, eh.e_shnum * sizeof(Elf64_Shdr));
  std::vector<std::string> needed;
  bool found_dynamic = false;
  for (const Elf64_Shdr& sh : sections) {
    if (sh.sh_type != SHT_DYNAMIC) continue;
    found_dynamic = true;
    DJ_CHECK(sh.sh_link < sections.size() && within(sh.sh_offset, sh.sh_size), InvalidArgument, path,
             ": bad .dynamic section");
    const Elf64_Shdr& strtab = sections[sh.sh_link];
    DJ_CHECK(within(strtab.sh_offset, strtab.sh_size), InvalidArgument, path, ": bad dynamic string table");
    for (uint64_t off = 0; off + sizeof(Elf64_Dyn) <= sh.sh_size; off += sizeof(Elf64_Dyn)) {
      Elf64_Dyn dyn;
      std::memcpy(&dyn, bytes.data() + sh.sh_offset + off, sizeof dyn);
      if (dyn.d_tag == DT_NULL) break;
      if (dyn.d_tag != DT_NEEDED) continue;
      DJ_CHECK(dyn.d_un.d_val < strtab.sh_size, InvalidArgument, path, ": DT_NEEDED name out of range");
      const char* name = bytes.data() + strtab.sh_offset + dyn.d_un.d_val;
      needed.emplace_back(name, strnlen(name, strtab.sh_size - dyn.d_un.d_val));
    }
  }
  DJ_CHECK(found_dynamic, InvalidArgument, path, " has no dynamic section (statically linked?)");
  return needed;
}

void expect_no_libcuda(const std::string& path) {
  Expected<std::vector<std::string>> needed = needed_libraries(path);
  ASSERT_TRUE(needed.ok()) << needed.status().to_string();
  // The reader must see real entries, or "no libcuda" would prove nothing.
  bool has_libc = false;
  for (const std::string& lib : needed.value()) {
    EXPECT_EQ(lib.find("libcuda"), std::string::npos) << path << " links " << lib;
    has_libc = has_libc || lib.rfind("libc.so", 0) == 0;
  }
  EXPECT_TRUE(has_libc) << path << ": DT_NEEDED read without libc.so; the ELF reader is broken";
}

TEST(NoLibcudaLink, TheTestBinaryItself) { expect_no_libcuda("/proc/self/exe"); }
TEST(NoLibcudaLink, LibDynajit) { expect_no_libcuda(DJ_DYNAJIT_LIBRARY); }
TEST(NoLibcudaLink, TheDjCommand) { expect_no_libcuda(DJ_CLI_BINARY); }
TEST(NoLibcudaLink, TheProbe) { expect_no_libcuda(DJ_CUDA_PROBE_BINARY); }

TEST(NoLibcudaLink, ReaderSeesWhatALinkedLibraryNeeds) {
  // libdynajit links TBB (through dj_runtime): the reader must find it.
  Expected<std::vector<std::string>> needed = needed_libraries(DJ_DYNAJIT_LIBRARY);
  ASSERT_TRUE(needed.ok()) << needed.status().to_string();
  bool has_tbb = false;
  for (const std::string& lib : needed.value()) has_tbb = has_tbb || lib.find("libtbb") != std::string::npos;
  EXPECT_TRUE(has_tbb);
  EXPECT_FALSE(needed_libraries("/nonexistent/binary").ok());
}

}  // namespace
}  // namespace dj
