// `dj bench` end to end: runs the built binary on the bundled dynamic_mlp (and
// greedy_loop for a set of two inputs) and checks what it reports — each shape set
// in the table with its real input shapes, the two engines' outputs in agreement,
// the JIT engine's timed runs all on compiled code, the JSON file (parsed here by a
// strict reader, so a malformed file fails) with its fields — and that bad
// arguments end with "dj: error:" and the exit codes `dj run` uses. Nothing here
// asserts a time beyond its internal consistency (min <= median <= p90).
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/capi/CommandRunner.h"

namespace dj::testing {
namespace {

// A JSON value read by a strict recursive-descent reader (RFC 8259 minus \u escapes
// beyond ASCII, which dj bench does not write).
struct JsonValue {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool boolean = false;
  double number = 0;
  std::string text;
  std::vector<JsonValue> items;
  std::map<std::string, JsonValue> fields;

  const JsonValue& operator[](const std::string& key) const {
    static const JsonValue missing;
    auto it = fields.find(key);
    return it == fields.end() ? missing : it->second;
  }
  bool has(const std::string& key) const { return fields.count(key) != 0; }
};

class JsonReader {
 public:
  explicit JsonReader(const std::string& s) : s_(s) {}
  // nullopt unless `s` is exactly one JSON value (whitespace around it allowed).
  std::optional<JsonValue> read_document() {
    JsonValue v;
    if (!read_value(v)) return std::nullopt;
    skip_space();
    if (at_ != s_.size()) return std::nullopt;
    return v;
  }

 private:
  void skip_space() {
    while (at_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[at_]))) ++at_;
  }
  bool literal(const char* word) {
    size_t n = std::strlen(word);
    if (s_.compare(at_, n, word) != 0) return false;
    at_ += n;
    return true;
  }
  bool read_string(std::string& out) {
    if (at_ >= s_.size() || s_[at_] != '"') return false;
    for (++at_; at_ < s_.size(); ++at_) {
      char c = s_[at_];
      if (c == '"') {
        ++at_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c == '\\') {
        if (++at_ >= s_.size()) return false;
        char e = s_[at_];
        const std::string simple = "\"\\/bfnrt", meaning = "\"\\/\b\f\n\r\t";
        if (size_t k = simple.find(e); k != std::string::npos) {
          out += meaning[k];
        } else if (e == 'u' && at_ + 4 < s_.size()) {
          out += static_cast<char>(std::stoi(s_.substr(at_ + 1, 4), nullptr, 16));
          at_ += 4;
        } else {
          return false;
        }
      } else {
        out += c;
      }
    }
    return false;
  }
  bool read_value(JsonValue& v) {
    skip_space();
    if (at_ >= s_.size()) return false;
    char c = s_[at_];
    if (c == '{') {
      v.kind = JsonValue::Object;
      ++at_;
      skip_space();
      if (at_ < s_.size() && s_[at_] == '}') return ++at_, true;
      while (true) {
        std::string key;
        skip_space();
        if (!read_string(key)) return false;
        skip_space();
        if (at_ >= s_.size() || s_[at_++] != ':') return false;
        if (!read_value(v.fields[key])) return false;
        skip_space();
        if (at_ < s_.size() && s_[at_] == ',') {
          ++at_;
          continue;
        }
        return at_ < s_.size() && s_[at_++] == '}';
      }
    }
    if (c == '[') {
      v.kind = JsonValue::Array;
      ++at_;
      skip_space();
      if (at_ < s_.size() && s_[at_] == ']') return ++at_, true;
      while (true) {
        v.items.emplace_back();
        if (!read_value(v.items.back())) return false;
        skip_space();
        if (at_ < s_.size() && s_[at_] == ',') {
          ++at_;
          continue;
        }
        return at_ < s_.size() && s_[at_++] == ']';
      }
    }
    if (c == '"') return v.kind = JsonValue::String, read_string(v.text);
    if (literal("true")) return v.kind = JsonValue::Bool, v.boolean = true, true;
    if (literal("false")) return v.kind = JsonValue::Bool, true;
    if (literal("null")) return true;
    const char* begin = s_.c_str() + at_;
    char* end = nullptr;
    v.number = std::strtod(begin, &end);
    if (end == begin || c == '+' || c == '.') return false;
    v.kind = JsonValue::Number;
    at_ += static_cast<size_t>(end - begin);
    return true;
  }

  const std::string& s_;
  size_t at_ = 0;
};

class DjBenchCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = DJ_BINARY_DIR "/dj";
    if (!std::filesystem::exists(binary_)) GTEST_SKIP() << binary_ << " is not built";
    dir_ = std::filesystem::temp_directory_path() / ("dj_bench_cmd_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // The code cache points into the test's directory, so --cache never touches the user's.
  CommandResult dj_bench(const std::string& args) {
    return run_shell_command("DJ_CACHE_DIR=" + (dir_ / "cache").string() + " " + binary_ + " bench " + args,
                             (dir_ / "stderr.txt").string());
  }
  static std::string model(const std::string& name) { return std::string(DJ_SOURCE_DIR) + "/models/" + name + ".onnx"; }

  JsonValue read_json(const std::string& path) {
    std::stringstream text;
    text << std::ifstream(path).rdbuf();
    std::optional<JsonValue> v = JsonReader(text.str()).read_document();
    EXPECT_TRUE(v.has_value()) << path << " is not valid JSON:\n" << text.str();
    return v.value_or(JsonValue{});
  }

  std::string binary_;
  std::filesystem::path dir_;
};

TEST_F(DjBenchCommand, HelpListsTheOptions) {
  CommandResult r = dj_bench("--help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* option : {"usage: dj bench MODEL", "--shape \"NAME=SHAPE[:DTYPE] ...\"", "--shapes 'SET;SET;...'", "--dim SYMBOL=N",
                             "--runs N", "--warmup N", "--seed N", "--jit-only", "--interp-only", "--cache",
                             "--json FILE", "--device cpu|cuda|auto"})
    EXPECT_HAS(r.out, option);
  CommandResult top = run_shell_command(binary_ + " --help", (dir_ / "stderr.txt").string());
  EXPECT_HAS(top.out, "bench MODEL [options]");
}

TEST_F(DjBenchCommand, TableAndJsonForEachShapeSet) {
  const std::string json_path = (dir_ / "bench.json").string();
  CommandResult r = dj_bench(model("dynamic_mlp") + " --shapes 'x=3x16; x=40x16' --runs 7 --warmup 4 --seed 2 --json " +
                             json_path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The table: one block per set, named by the shapes actually run, with both engines.
  const size_t first = r.out.find("shape x=f32[3,16]\n"), second = r.out.find("shape x=f32[40,16]\n");
  ASSERT_NE(first, std::string::npos) << r.out;
  ASSERT_NE(second, std::string::npos) << r.out;
  EXPECT_LT(first, second);
  for (const std::string& block : {r.out.substr(first, second - first), r.out.substr(second)}) {
    EXPECT_HAS(block, "  interpreter ");
    EXPECT_HAS(block, "  jit ");
    EXPECT_HAS(block, "interp/jit: ");
    EXPECT_HAS(block, "(agree)");
    EXPECT_HAS(block, " 7/7\n");  // dynamic_mlp is one region: 7 timed runs, all compiled
  }
  EXPECT_HAS(r.err, "bench: x=f32[3,16]: 4 warm-up runs");
  EXPECT_HAS(r.err, "bench: x=f32[40,16]: 7 timed runs");

  JsonValue j = read_json(json_path);
  EXPECT_EQ(j["model"].text, model("dynamic_mlp"));
  EXPECT_EQ(j["device"].text, "cpu");
  EXPECT_EQ(j["runs"].number, 7);
  EXPECT_EQ(j["warmup"].number, 4);
  EXPECT_EQ(j["seed"].number, 2);
  EXPECT_EQ(j["cache"].kind, JsonValue::Bool);
  EXPECT_FALSE(j["cache"].boolean);
  ASSERT_EQ(j["shapes"].items.size(), 2u);
  const double batches[] = {3, 40};
  for (size_t s = 0; s < 2; ++s) {
    const JsonValue& set = j["shapes"].items[s];
    SCOPED_TRACE("shape set " + std::to_string(s) + ": " + set["label"].text);
    EXPECT_EQ(set["label"].text, s == 0 ? "x=f32[3,16]" : "x=f32[40,16]");
    ASSERT_EQ(set["inputs"].items.size(), 1u);
    const JsonValue& x = set["inputs"].items[0];
    EXPECT_EQ(x["name"].text, "x");
    EXPECT_EQ(x["dtype"].text, "f32");
    ASSERT_EQ(x["shape"].items.size(), 2u);
    EXPECT_EQ(x["shape"].items[0].number, batches[s]);
    EXPECT_EQ(x["shape"].items[1].number, 16);
    for (const char* engine : {"interpreter", "jit"}) {
      const JsonValue& e = set[engine];
      ASSERT_EQ(e.kind, JsonValue::Object) << engine;
      EXPECT_GT(e["min_ms"].number, 0) << engine;
      EXPECT_LE(e["min_ms"].number, e["median_ms"].number) << engine;
      EXPECT_LE(e["median_ms"].number, e["p90_ms"].number) << engine;
      // A run holds at least its input and its output ([batch,4] probabilities) at once.
      EXPECT_GE(e["peak_tensor_bytes"].number, batches[s] * (16 + 4) * 4.0) << engine;
    }
    EXPECT_NEAR(set["ratio_interp_over_jit"].number, set["interpreter"]["median_ms"].number / set["jit"]["median_ms"].number,
                1e-3 * set["ratio_interp_over_jit"].number);
    // Compiles are waited for before timing, so every timed region run of this shape is compiled.
    const JsonValue& work = set["jit_work"];
    EXPECT_GE(work["region_runs"].number, 7);
    EXPECT_GT(work["compiled_region_runs"].number, 0);
    EXPECT_EQ(work["compiled_region_runs"].number, work["region_runs"].number);
    EXPECT_GE(work["specializations"].number, 1);  // each batch size is a new signature
    EXPECT_GT(work["compile_ms"].number, 0);
    EXPECT_EQ(work["failed"].number, 0);
    EXPECT_EQ(work["cache_hits"].number, 0);  // the cache is off without --cache
    EXPECT_EQ(set["outputs_agree"].kind, JsonValue::Bool);
    EXPECT_TRUE(set["outputs_agree"].boolean);
    EXPECT_EQ(set["max_abs_error"].kind, JsonValue::Number);
    EXPECT_LE(set["max_abs_error"].number, 1e-4);
  }
}

TEST_F(DjBenchCommand, ShapeFlagsDimsAndDeclaredShapes) {
  // Each --shape is one set (as in dj cache warm), each --shapes one or more; they run in order.
  CommandResult r = dj_bench(model("dynamic_mlp") + " --shape x=2x16 --shapes 'x=5x16;x=3x16' --shape=x=7x16 --runs 2 --warmup 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t previous = 0;
  for (const char* batch : {"2", "5", "3", "7"}) {
    const size_t at = r.out.find(std::string("shape x=f32[") + batch + ",16]\n");
    ASSERT_NE(at, std::string::npos) << batch << "\n" << r.out;
    EXPECT_GT(at, previous) << batch << "\n" << r.out;
    previous = at;
  }
  // No shapes: the declared [batch,16], batch from --dim (no note) or 1 (with a note, as dj run says it).
  CommandResult dim = dj_bench(model("dynamic_mlp") + " --dim batch=6 --runs 2 --warmup 1");
  ASSERT_EQ(dim.exit_code, 0) << dim.err;
  EXPECT_HAS(dim.out, "shape x=f32[6,16]\n");
  EXPECT_EQ(dim.err.find("dj: note"), std::string::npos) << dim.err;
  CommandResult made_up = dj_bench(model("dynamic_mlp") + " --runs 2 --warmup 1");
  ASSERT_EQ(made_up.exit_code, 0) << made_up.err;
  EXPECT_HAS(made_up.out, "shape x=f32[1,16]\n");
  EXPECT_HAS(made_up.err, "dj: note: symbolic dim 'batch'");
  // Sets of two inputs, one a scalar of a given dtype; inputs split on commas or spaces.
  CommandResult loop = dj_bench(model("greedy_loop") + " --shapes 'h0=1x16,steps=scalar:i64' --shape 'h0=1x16  steps=scalar:i32' --runs 2 --warmup 2");
  ASSERT_EQ(loop.exit_code, 1) << loop.err;  // the second set gives steps the wrong dtype
  EXPECT_HAS(loop.err, "dj: error: shape set 2: ");
  EXPECT_HAS(loop.err, "steps");
  CommandResult pair = dj_bench(model("greedy_loop") + " --shape 'h0=1x16 steps=scalar:i64' --runs 2 --warmup 2");
  ASSERT_EQ(pair.exit_code, 0) << pair.err;
  EXPECT_HAS(pair.out, "shape h0=f32[1,16], steps=i64[]\n");
  EXPECT_HAS(pair.out, "(agree)");
}

TEST_F(DjBenchCommand, OneEngineOnly) {
  const std::string json_path = (dir_ / "interp.json").string();
  CommandResult interp = dj_bench(model("dynamic_mlp") + " --shape x=4x16 --interp-only --runs 3 --json " + json_path);
  ASSERT_EQ(interp.exit_code, 0) << interp.err;
  EXPECT_HAS(interp.out, "  interpreter ");
  EXPECT_EQ(interp.out.find("  jit "), std::string::npos) << interp.out;
  EXPECT_EQ(interp.out.find("outputs:"), std::string::npos) << interp.out;  // nothing to compare with
  JsonValue j = read_json(json_path);
  ASSERT_EQ(j["shapes"].items.size(), 1u);
  EXPECT_EQ(j["shapes"].items[0]["interpreter"].kind, JsonValue::Object);
  EXPECT_EQ(j["shapes"].items[0]["jit"].kind, JsonValue::Null);
  EXPECT_EQ(j["shapes"].items[0]["outputs_agree"].kind, JsonValue::Null);
  EXPECT_FALSE(j["shapes"].items[0].has("jit_work"));

  CommandResult jit = dj_bench(model("dynamic_mlp") + " --shape x=4x16 --jit-only --runs 3 --warmup 3");
  ASSERT_EQ(jit.exit_code, 0) << jit.err;
  EXPECT_EQ(jit.out.find("  interpreter "), std::string::npos) << jit.out;
  EXPECT_HAS(jit.out, "  jit ");
  EXPECT_HAS(jit.out, "specializations: 1 compiled in ");
}

TEST_F(DjBenchCommand, CacheServesTheSecondProcess) {
  const std::string args = model("dynamic_mlp") + " --shape x=9x16 --jit-only --cache --runs 2 --warmup 2 --json ";
  CommandResult first = dj_bench(args + (dir_ / "first.json").string());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  CommandResult second = dj_bench(args + (dir_ / "second.json").string());
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const JsonValue a = read_json((dir_ / "first.json").string())["shapes"].items.at(0)["jit_work"];
  const JsonValue b = read_json((dir_ / "second.json").string())["shapes"].items.at(0)["jit_work"];
  EXPECT_GE(a["specializations"].number, 1);
  EXPECT_EQ(a["cache_hits"].number, 0);
  EXPECT_EQ(b["specializations"].number, 0);  // nothing compiled: loaded instead
  EXPECT_GE(b["cache_hits"].number, 1);
  EXPECT_EQ(b["compiled_region_runs"].number, b["region_runs"].number);
}

TEST_F(DjBenchCommand, BadArgumentsAreClearErrors) {
  const std::string mlp = model("dynamic_mlp");
  struct Case {
    std::string args;
    int exit_code;
    std::string says;
  };
  const Case cases[] = {
      // Usage errors (2), as dj run reports its own.
      {mlp + " --shape x=1xq", 2, "bad shape '1xq'"},
      {mlp + " --shapes 'x=4x16;x=8x'", 2, "bad shape '8x'"},
      {mlp + " --shapes ';'", 2, "has no shape set"},
      {mlp + " --shape 'x=4x16,,'", 2, "bad --input ''"},
      {mlp + " --runs 0", 2, "--runs needs a positive integer"},
      {mlp + " --runs", 2, "--runs needs a positive integer"},
      {mlp + " --warmup -1", 2, "--warmup needs a non-negative integer"},
      {mlp + " --jit-only --interp-only", 2, "exclude each other"},
      {mlp + " --device tpu", 2, "expected one of: cpu, cuda, auto"},
      {mlp + " --frobnicate", 2, "unknown option '--frobnicate'"},
      {"--runs 3", 2, "no MODEL given"},
      // Errors found against the model (1), as dj run reports an unknown input or a wrong shape.
      {mlp + " --shapes 'x=4x16;z=4x16'", 1, "shape set 2: the model has no input 'z' (its inputs: x)"},
      {mlp + " --shape x=2x5", 1, "[2,5]"},
      {"/nonexistent/model.onnx", 1, "/nonexistent/model.onnx"},
  };
  for (const Case& c : cases) {
    CommandResult r = dj_bench(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << "dj bench " << c.args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("dj: error: ", 0), 0u) << "dj bench " << c.args << "\n" << r.err;
    EXPECT_HAS(r.err, c.says);
    EXPECT_EQ(r.out.find("shape x="), std::string::npos) << "nothing is timed: " << c.args;
  }
}

}  // namespace
}  // namespace dj::testing
