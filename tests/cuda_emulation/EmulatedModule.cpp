// EmulatedModule.cpp — builds generated CUDA C into a host shared object and runs its kernels.
// Invariants: a module in the cache is fully loaded (every entry resolved); the temporary
// build folder is removed whether the build succeeds or not.
#include "tests/cuda_emulation/EmulatedModule.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <unordered_map>

extern char** environ;

namespace dj::emu {
namespace {

namespace fs = std::filesystem;

bool is_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

// A temporary folder that removes itself.
struct ScratchDir {
  fs::path path;
  ~ScratchDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

Expected<fs::path> make_scratch_dir() {
  std::error_code ec;
  fs::path base = fs::temp_directory_path(ec);
  if (ec) base = "/tmp";
  std::string pattern = (base / "dj_emu_XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr)
    return make_error(StatusCode::IoError, "cannot create a temporary folder from ", pattern, ": ",
                      std::strerror(errno));
  return fs::path(pattern);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs argv[0] with argv, stdout and stderr into `log`; returns its exit status.
Expected<int> run_compiler(const std::vector<std::string>& argv, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // LC_ALL=C: plain ASCII diagnostics, whatever the caller's locale.
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "LC_ALL=", 7) != 0) env.push_back(*e);
  char c_locale[] = "LC_ALL=C";
  env.push_back(c_locale);
  env.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    return make_error(StatusCode::IoError, "cannot start the host compiler '", argv[0],
                      "': ", std::strerror(rc));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return make_error(StatusCode::IoError,
                        "waiting for the host compiler: ", std::strerror(errno));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

std::mutex& cache_mutex() {
  static std::mutex m;
  return m;
}

std::unordered_map<std::string, std::shared_ptr<const EmulatedModule>>& module_cache() {
  static std::unordered_map<std::string, std::shared_ptr<const EmulatedModule>> cache;
  return cache;
}

}  // namespace

HostCompiler configured_host_compiler() {
#if defined(DJ_EMU_HOST_CXX) && defined(DJ_EMU_INCLUDE_DIR)
  return HostCompiler{DJ_EMU_HOST_CXX, DJ_EMU_INCLUDE_DIR, {}};
#else
  return HostCompiler{"c++", "", {}};
#endif
}

std::string emulation_translation_unit(const std::string& cuda_source,
                                       const std::vector<std::string>& kernel_names,
                                       const std::string& params_type) {
  std::string tu = "#include \"CudaEmulation.h\"\n#line 1 \"emulated_kernel.cu\"\n";
  tu += cuda_source;
  tu += "\n#line 1 \"emulated_entries.cpp\"\n";
  tu +=
      "extern \"C\" __attribute__((visibility(\"default\"))) const char* dj_emu_last_error() {\n"
      "  return ::dj_emu::detail::last_entry_error().c_str();\n}\n";
  for (const std::string& name : kernel_names) {
    tu +=
        "extern \"C\" __attribute__((visibility(\"default\"))) void dj_emu_entry_" + name +
        "(const void* params, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, "
        "unsigned bz) {\n"
        "  ::dj_emu::detail::last_entry_error().clear();\n"
        "  try {\n"
        "    ::dj_emu::launch(::dj_emu::dim3(gx, gy, gz), ::dj_emu::dim3(bx, by, bz), [params] {\n"
        "      " +
        name + "(*static_cast<const " + params_type +
        "*>(params));\n"
        "    });\n"
        "  } catch (const std::exception& e) {\n"
        "    ::dj_emu::detail::last_entry_error() = e.what();\n"
        "  } catch (...) {\n"
        "    ::dj_emu::detail::last_entry_error() = \"unknown error\";\n"
        "  }\n"
        "}\n";
  }
  return tu;
}

Expected<std::shared_ptr<const EmulatedModule>> EmulatedModule::compile(
    const std::string& cuda_source, const std::vector<std::string>& kernel_names,
    const std::string& params_type, const HostCompiler& compiler) {
  if (kernel_names.empty())
    return make_error(StatusCode::InvalidArgument, "emulated module: no kernel names given");
  for (size_t i = 0; i < kernel_names.size(); ++i) {
    if (!is_identifier(kernel_names[i]))
      return make_error(StatusCode::InvalidArgument, "emulated module: kernel name '",
                        kernel_names[i], "' is not a C identifier");
    for (size_t j = 0; j < i; ++j)
      if (kernel_names[j] == kernel_names[i])
        return make_error(StatusCode::InvalidArgument, "emulated module: kernel '", kernel_names[i],
                          "' is named twice");
  }
  if (!is_identifier(params_type))
    return make_error(StatusCode::InvalidArgument, "emulated module: parameter type '", params_type,
                      "' is not a C identifier");
  if (compiler.path.empty())
    return make_error(StatusCode::InvalidArgument, "emulated module: no host compiler given");

  std::string key = compiler.path + '\0' + compiler.include_dir + '\0' + params_type + '\0';
  for (const std::string& f : compiler.extra_flags) key += f + '\0';
  for (const std::string& n : kernel_names) key += n + '\0';
  key += cuda_source;
  {
    std::lock_guard<std::mutex> lock(cache_mutex());
    auto it = module_cache().find(key);
    if (it != module_cache().end()) return it->second;
  }
  // Built outside the lock: two threads racing on one text both build, the first one wins.
  auto built = build(cuda_source, kernel_names, params_type, compiler);
  if (!built.ok()) return built.status();
  std::lock_guard<std::mutex> lock(cache_mutex());
  return module_cache().emplace(std::move(key), std::move(built).value()).first->second;
}

Expected<std::shared_ptr<const EmulatedModule>> EmulatedModule::build(
    const std::string& cuda_source, const std::vector<std::string>& kernel_names,
    const std::string& params_type, const HostCompiler& compiler) {
  if (!fs::exists(fs::path(compiler.include_dir) / "CudaEmulation.h"))
    return make_error(StatusCode::InvalidArgument, "emulated module: no CudaEmulation.h in '",
                      compiler.include_dir, "'");
  DJ_ASSIGN_OR_RETURN(fs::path dir_path, make_scratch_dir());
  ScratchDir dir{dir_path};
  const fs::path source = dir.path / "emulated_module.cpp";
  const fs::path object = dir.path / "emulated_module.so";
  const fs::path log = dir.path / "compiler_output.txt";
  {
    std::ofstream out(source, std::ios::binary);
    out << emulation_translation_unit(cuda_source, kernel_names, params_type);
    if (!out.flush()) return make_error(StatusCode::IoError, "cannot write ", source.string());
  }
  // -fno-strict-aliasing: the contract reads floats through float4 pointers, which CUDA allows.
  // -fvisibility=hidden: each module keeps its own scheduler; only the entries are exported.
  std::vector<std::string> argv = {compiler.path,
                                   "-std=c++20",
                                   "-O1",
                                   "-shared",
                                   "-fPIC",
                                   "-fvisibility=hidden",
                                   "-fno-strict-aliasing",
                                   "-I" + compiler.include_dir};
  argv.insert(argv.end(), compiler.extra_flags.begin(), compiler.extra_flags.end());
  argv.insert(argv.end(), {"-o", object.string(), source.string()});
  DJ_ASSIGN_OR_RETURN(int exit_code, run_compiler(argv, log));
  if (exit_code != 0)
    return make_error(StatusCode::InvalidArgument,
                      "host compile of the emulated CUDA source failed (", compiler.path,
                      " exited with ", exit_code, "):\n", read_file(log));

  void* handle = dlopen(object.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr)
    return make_error(StatusCode::Internal, "cannot load the emulated module: ", dlerror());
  std::shared_ptr<EmulatedModule> module(new EmulatedModule());
  module->names_ = kernel_names;
  module->last_error_ = reinterpret_cast<LastErrorFn>(dlsym(handle, "dj_emu_last_error"));
  for (const std::string& name : kernel_names) {
    auto entry = reinterpret_cast<EntryFn>(dlsym(handle, ("dj_emu_entry_" + name).c_str()));
    if (entry == nullptr || module->last_error_ == nullptr)
      return make_error(StatusCode::Internal, "emulated module lacks the entry of kernel '", name,
                        "'");
    module->entries_.push_back(entry);
  }
  return std::shared_ptr<const EmulatedModule>(std::move(module));
}

Status EmulatedModule::launch(std::string_view name, LaunchDims grid, LaunchDims block,
                              const void* params) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] != name) continue;
    if (params == nullptr)
      return make_error(StatusCode::InvalidArgument, "kernel '", name, "': null parameter struct");
    entries_[i](params, grid.x, grid.y, grid.z, block.x, block.y, block.z);
    const char* error = last_error_();
    if (error != nullptr && *error != '\0')
      return make_error(StatusCode::Internal, "emulated kernel '", name, "': ", error);
    return Status::ok_status();
  }
  return make_error(StatusCode::InvalidArgument, "emulated module has no kernel '", name, "'");
}

}  // namespace dj::emu
