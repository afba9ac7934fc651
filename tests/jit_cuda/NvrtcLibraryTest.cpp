// NvrtcLibrary: NVRTC is dlopen'ed, never linked. The test binary's ELF names no
// libnvrtc; a missing library, or one without NVRTC's symbols, is a clear Unsupported
// error from every entry point (and nothing maps libnvrtc behind our back); the
// toolkit's copy, opened by absolute path with no LD_LIBRARY_PATH, compiles; and the
// libnvrtc-builtins used is the one beside the libnvrtc loaded.
//
// NVRTC is loaded once per process, so the tests that choose the library re-run
// themselves in a fresh child process (this binary, filtered to the one test, with
// the environment set) and assert that the child ran that test and passed. That
// holds whether ctest runs each test alone or the binary runs all of them.
#include <elf.h>
#include <gtest/gtest.h>
#include <link.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>

#include "jit/cuda/KernelParams.h"
#include "jit/cuda/NvrtcCompiler.h"
#include "jit/cuda/NvrtcLibrary.h"
#include "tests/jit_cuda/CudaJitTestSupport.h"

extern char** environ;

namespace dj::jit::cuda {
namespace {

constexpr const char* kChildMarker = "DJ_NVRTC_TEST_CHILD";  // = the test the child runs
constexpr const char* kMissingLibrary = "/nonexistent/libnvrtc.so";

std::string current_test_name() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name();
}

bool running_as_child() {
  const char* marker = std::getenv(kChildMarker);
  return marker && current_test_name() == marker;
}

struct ChildResult {
  int exit_code = -1;
  std::string output;
};

// Runs this binary filtered to the current test, with `changes` applied to the
// environment (nullopt removes a variable), and returns its exit code and output.
ChildResult run_current_test_in_child(const std::map<std::string, std::optional<std::string>>& changes) {
  const std::string test = current_test_name();
  std::map<std::string, std::optional<std::string>> all = changes;
  all[kChildMarker] = test;
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string entry(*e);
    if (!all.count(entry.substr(0, entry.find('=')))) env.push_back(entry);
  }
  for (const auto& [name, value] : all)
    if (value) env.push_back(name + "=" + *value);
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string filter = "--gtest_filter=" + test;
  char* argv[] = {self.data(), filter.data(), nullptr};

  ChildResult result;
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) {
    result.output = std::string("pipe failed: ") + std::strerror(errno);
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, self.c_str(), &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (spawned != 0) {
    close(pipe_fds[0]);
    result.output = "posix_spawn of " + self + " failed: " + std::strerror(spawned);
    return result;
  }
  char buffer[4096];
  for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    result.output.append(buffer, static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

// The parent's half of a child-run test: the child must have run this very test
// (a filter that matched nothing would also exit 0) and passed it.
void expect_child_passes(const std::map<std::string, std::optional<std::string>>& changes) {
  const ChildResult child = run_current_test_in_child(changes);
  EXPECT_EQ(child.exit_code, 0) << child.output;
  EXPECT_NE(child.output.find("[       OK ] " + current_test_name()), std::string::npos) << child.output;
  std::cout << "--- child process output ---\n" << child.output << "--- end of child output ---\n";
}

// The files of this process's mappings whose name contains `part`.
std::vector<std::string> mapped_files_containing(const std::string& part) {
  std::ifstream maps("/proc/self/maps");
  std::vector<std::string> files;
  for (std::string line; std::getline(maps, line);) {
    const size_t slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string file = line.substr(slash);
    if (file.find(part) != std::string::npos &&
        std::find(files.begin(), files.end(), file) == files.end())
      files.push_back(file);
  }
  return files;
}

// The names the loader knows this process's objects by (as they were opened, symlinks
// unresolved, unlike /proc/self/maps) that contain `part`.
std::vector<std::string> loaded_objects_containing(const std::string& part) {
  struct Search {
    std::string part;
    std::vector<std::string> names;
  } search{part, {}};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* s = static_cast<Search*>(data);
        if (info->dlpi_name && std::string(info->dlpi_name).find(s->part) != std::string::npos)
          s->names.emplace_back(info->dlpi_name);
        return 0;
      },
      &search);
  return search.names;
}

// DT_NEEDED entries of a 64-bit little-endian ELF file: the .dynamic section's
// DT_NEEDED values are offsets into the string table its sh_link names.
Expected<std::vector<std::string>> elf_needed_libraries(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(StatusCode::IoError, "cannot open ", path);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Elf64_Ehdr header;
  if (bytes.size() < sizeof header) return make_error(StatusCode::InvalidArgument, path, " is too short for ELF");
  std::memcpy(&header, bytes.data(), sizeof header);
  if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64 ||
      header.e_ident[EI_DATA] != ELFDATA2LSB)
    return make_error(StatusCode::InvalidArgument, path, " is not a 64-bit little-endian ELF file");
  auto section = [&](size_t index) -> Expected<Elf64_Shdr> {
    const size_t at = header.e_shoff + index * header.e_shentsize;
    Elf64_Shdr s;
    if (index >= header.e_shnum || at + sizeof s > bytes.size())
      return make_error(StatusCode::InvalidArgument, path, ": section ", index, " out of range");
    std::memcpy(&s, bytes.data() + at, sizeof s);
    return s;
  };
  std::vector<std::string> needed;
  bool found_dynamic = false;
  for (size_t i = 0; i < header.e_shnum; ++i) {
    DJ_ASSIGN_OR_RETURN(const Elf64_Shdr dynamic, section(i));
    if (dynamic.sh_type != SHT_DYNAMIC) continue;
    found_dynamic = true;
    DJ_ASSIGN_OR_RETURN(const Elf64_Shdr strings, section(dynamic.sh_link));
    for (size_t at = dynamic.sh_offset; at + sizeof(Elf64_Dyn) <= dynamic.sh_offset + dynamic.sh_size;
         at += sizeof(Elf64_Dyn)) {
      Elf64_Dyn entry;
      std::memcpy(&entry, bytes.data() + at, sizeof entry);
      if (entry.d_tag == DT_NULL) break;
      if (entry.d_tag != DT_NEEDED) continue;
      const size_t name_at = strings.sh_offset + entry.d_un.d_val;
      if (name_at >= bytes.size()) return make_error(StatusCode::InvalidArgument, path, ": bad DT_NEEDED offset");
      needed.emplace_back(bytes.data() + name_at);
    }
  }
  if (!found_dynamic) return make_error(StatusCode::InvalidArgument, path, " has no .dynamic section");
  return needed;
}

std::string divide_kernel() {
  return std::string(kernel_params_source()) +
         "\nextern \"C\" __global__ void __launch_bounds__(128) divide(DjKernelParams p) {\n"
         "  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;\n"
         "  if (i < p.numel) p.out[i] = p.in[0][i] / p.in[1][i];\n"
         "}\n";
}

TEST(NvrtcLibrary, TestBinaryDoesNotLinkNvrtc) {
  auto needed = elf_needed_libraries(DJ_JIT_CUDA_TESTS_BINARY);
  ASSERT_TRUE(needed.ok()) << needed.status().to_string();
  std::string list;
  for (const std::string& n : *needed) list += " " + n;
  std::cout << "DT_NEEDED of " << DJ_JIT_CUDA_TESTS_BINARY << ":" << list << "\n";
  // The parse found the real list: a C++ test binary needs the C and C++ runtimes.
  EXPECT_NE(std::find(needed->begin(), needed->end(), "libc.so.6"), needed->end()) << list;
  EXPECT_NE(std::find(needed->begin(), needed->end(), "libstdc++.so.6"), needed->end()) << list;
  for (const std::string& n : *needed) {
    EXPECT_EQ(n.find("nvrtc"), std::string::npos) << n;
    EXPECT_EQ(n.find("libcuda"), std::string::npos) << n;
  }
}

TEST(NvrtcLibrary, LoadsOnceAndSaysWhichFile) {
  const std::vector<std::string> candidates = nvrtc_library_candidates();
  ASSERT_FALSE(candidates.empty());
  if (const char* env = std::getenv("DJ_NVRTC_LIBRARY"); env && *env) {
    EXPECT_EQ(candidates, std::vector<std::string>{env});
  } else {
    EXPECT_EQ(candidates.front(), "libnvrtc.so.13");
    EXPECT_EQ(candidates[1], "libnvrtc.so");
    ASSERT_EQ(candidates.size(), 3u);
    EXPECT_EQ(candidates.back(), nvrtc_toolkit_library());
    EXPECT_TRUE(std::filesystem::path(candidates.back()).is_absolute()) << candidates.back();
    EXPECT_TRUE(std::filesystem::exists(candidates.back())) << candidates.back();
  }
  auto first = nvrtc_library();
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  auto second = nvrtc_library();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second) << "the table is resolved once";
  const NvrtcLibrary& nvrtc = **first;
  EXPECT_NE(std::find(candidates.begin(), candidates.end(), nvrtc.library), candidates.end()) << nvrtc.library;
  EXPECT_TRUE(std::filesystem::exists(nvrtc.path)) << nvrtc.path;
  EXPECT_NE(nvrtc.path.find("libnvrtc"), std::string::npos) << nvrtc.path;
  // dladdr named an object the loader holds, and exactly one libnvrtc is loaded.
  EXPECT_EQ(loaded_objects_containing("libnvrtc.so"), std::vector<std::string>{nvrtc.path});
  std::cout << "NVRTC " << nvrtc_version() << " opened as '" << nvrtc.library << "' from " << nvrtc.path << "\n";
}

TEST(NvrtcLibrary, MissingLibraryIsUnsupportedNamingThePath) {
  if (!running_as_child()) {
    expect_child_passes({{"DJ_NVRTC_LIBRARY", kMissingLibrary}});
    return;
  }
  EXPECT_EQ(nvrtc_library_candidates(), std::vector<std::string>{kMissingLibrary});
  auto out = nvrtc_compile(divide_kernel(), "divide");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::Unsupported);
  const std::string& message = out.status().message();
  std::cout << "nvrtc_compile: " << out.status().to_string() << "\n";
  EXPECT_NE(message.find("'divide'"), std::string::npos) << message;
  EXPECT_NE(message.find("NVRTC library not found"), std::string::npos) << message;
  EXPECT_NE(message.find(std::string("'") + kMissingLibrary + "'"), std::string::npos) << message;
  EXPECT_NE(message.find("No such file or directory"), std::string::npos) << "dlerror's reason: " << message;
  EXPECT_NE(message.find("DJ_NVRTC_LIBRARY"), std::string::npos) << "says how to fix it: " << message;
  // The same error every time, and the query functions degrade instead of failing.
  auto again = nvrtc_compile(divide_kernel(), "divide");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::Unsupported);
  EXPECT_EQ(nvrtc_version(), "unavailable");
  EXPECT_TRUE(nvrtc_supported_archs().empty());
  // Nothing linked pulled NVRTC in: with our dlopen failing, no libnvrtc is mapped.
  std::string mapped;
  for (const std::string& file : mapped_files_containing("libnvrtc")) mapped += " " + file;
  EXPECT_EQ(mapped, "") << "mapped although never opened";
}

TEST(NvrtcLibrary, LibraryWithoutTheSymbolsIsUnsupportedNamingTheSymbol) {
  // libm opens fine but is no NVRTC: the first entry of the table is missing.
  if (!running_as_child()) {
    expect_child_passes({{"DJ_NVRTC_LIBRARY", "libm.so.6"}});
    return;
  }
  auto nvrtc = nvrtc_library();
  ASSERT_FALSE(nvrtc.ok());
  EXPECT_EQ(nvrtc.status().code(), StatusCode::Unsupported);
  const std::string& message = nvrtc.status().message();
  std::cout << "nvrtc_library: " << nvrtc.status().to_string() << "\n";
  EXPECT_NE(message.find("NVRTC library 'libm.so.6' lacks symbol nvrtcGetErrorString"), std::string::npos) << message;
  auto out = nvrtc_compile(divide_kernel(), "divide");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::Unsupported);
  EXPECT_NE(out.status().message().find(message), std::string::npos) << out.status().message();
  EXPECT_EQ(nvrtc_version(), "unavailable");
  EXPECT_TRUE(nvrtc_supported_archs().empty());
}

TEST(NvrtcLibrary, ToolkitCopyByAbsolutePathCompilesWithoutLdLibraryPath) {
  const std::string toolkit = nvrtc_toolkit_library();
  ASSERT_FALSE(toolkit.empty()) << "CMake found no toolkit libnvrtc";
  if (!running_as_child()) {
    expect_child_passes({{"DJ_NVRTC_LIBRARY", toolkit}, {"LD_LIBRARY_PATH", std::nullopt}});
    return;
  }
  EXPECT_EQ(std::getenv("LD_LIBRARY_PATH"), nullptr);
  auto nvrtc = nvrtc_library();
  ASSERT_TRUE(nvrtc.ok()) << nvrtc.status().to_string();
  EXPECT_EQ((*nvrtc)->library, toolkit);
  EXPECT_EQ(std::filesystem::canonical((*nvrtc)->path), std::filesystem::canonical(toolkit));
  // Compiling makes NVRTC open libnvrtc-builtins on its own; a cubin proves it did.
  auto out = nvrtc_compile(divide_kernel(), "divide");
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  testing::expect_sm90_cubin(out->cubin, "divide");
  EXPECT_NE(out->ptx.find(".visible .entry divide("), std::string::npos);
  const auto builtins = mapped_files_containing("libnvrtc-builtins");
  ASSERT_FALSE(builtins.empty()) << "libnvrtc-builtins is not mapped after a compile";
  std::cout << "NVRTC " << nvrtc_version() << " from " << (*nvrtc)->path << " loaded " << builtins.front() << "\n";
}

TEST(NvrtcLibrary, BuiltinsComeFromBesideTheLoadedNvrtc) {
  // A directory of links to the toolkit's NVRTC files stands for an install the
  // loader's cache does not know. Without our preload, NVRTC would find its builtins
  // through ld.so.cache (here: the toolkit's directory) or not at all.
  const std::string toolkit = nvrtc_toolkit_library();
  ASSERT_FALSE(toolkit.empty()) << "CMake found no toolkit libnvrtc";
  if (!running_as_child()) {
    const std::filesystem::path links = std::filesystem::temp_directory_path() /
                                        ("dj_nvrtc_links_" + std::to_string(getpid()));
    std::filesystem::create_directories(links);
    int linked_builtins = 0;
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(toolkit).parent_path())) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("libnvrtc-builtins.so.", 0) != 0) continue;
      std::filesystem::create_symlink(entry.path(), links / name);
      ++linked_builtins;
    }
    std::filesystem::create_symlink(toolkit, links / "libnvrtc.so");
    EXPECT_GT(linked_builtins, 0) << "no libnvrtc-builtins beside " << toolkit;
    expect_child_passes({{"DJ_NVRTC_LIBRARY", (links / "libnvrtc.so").string()}, {"LD_LIBRARY_PATH", std::nullopt}});
    std::filesystem::remove_all(links);
    return;
  }
  const std::string library = std::getenv("DJ_NVRTC_LIBRARY");
  const std::string links = library.substr(0, library.rfind('/') + 1);
  auto nvrtc = nvrtc_library();
  ASSERT_TRUE(nvrtc.ok()) << nvrtc.status().to_string();
  EXPECT_EQ((*nvrtc)->path, library);
  EXPECT_EQ((*nvrtc)->builtins.rfind(links + "libnvrtc-builtins.so.", 0), 0u) << (*nvrtc)->builtins;
  auto out = nvrtc_compile(divide_kernel(), "divide");
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  testing::expect_sm90_cubin(out->cubin, "divide");
  // After a compile the one builtins object in the process is the one beside libnvrtc.
  const std::vector<std::string> builtins = loaded_objects_containing("libnvrtc-builtins");
  EXPECT_EQ(builtins, std::vector<std::string>{(*nvrtc)->builtins});
}

}  // namespace
}  // namespace dj::jit::cuda
