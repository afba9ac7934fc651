// JitReport: what the JIT did, for people and programs — the "jit" object of the
// stats JSON (dj_model_stats, `dj run --stats-json`) and the REPL's `specs` and
// `guards` tables.
//
// JSON: "jit": { "enabled": true, "compiled", "in_flight", "failed", "capped", "not_compilable",
//   "compile_ms", "failures": [str...],
//   "specializations": [ { "region", "guard", "kernels", "interpreted_ops",
//                          "compile_ms", "hits" } ] }
#pragma once

#include <string>

#include "runtime/JsonWriter.h"
#include "runtime/Region.h"
#include "specializer/Specializer.h"

namespace dj::specializer {

void write_jit_json(JsonWriter& w, const Specializer& specializer, const RegionPlan& plan);
// Per region: its specializations with guard, kernels, compile time and hits.
std::string format_specializations(const Specializer& specializer, const RegionPlan& plan);
// A region's guards spelled out per input: "x: f32 [4,16] (dtype and every dim equal)".
std::string format_guards(const Specializer& specializer, const Region& region);

}  // namespace dj::specializer
