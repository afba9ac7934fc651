// TraceTables: the tracer's statistics as text tables for people — shared by the
// REPL's inspection commands and `dj run --stats`.
//
//   regions  every region with its kind, ops, inputs (symbolic shapes), routers
//   hot      the (region, signature) pairs by time spent, marking the hot ones
//   paths    per If: branch counts per signature; per Loop/Scan: trip histograms
//   routes   per router: rows per expert (total, share, last call), empty calls
//   prof     time per region: executions, total, share of run time, mean
// Each returns the whole text (ending in a newline); an empty table says why.
#pragma once

#include <string>

#include "runtime/Region.h"
#include "runtime/Tracer.h"

namespace dj {

std::string format_regions(const RegionPlan& plan);
std::string format_hot(const RegionPlan& plan, const Tracer& tracer, size_t limit);
std::string format_paths(const RegionPlan& plan, const Tracer& tracer);
std::string format_routes(const RegionPlan& plan, const Tracer& tracer);
std::string format_profile(const RegionPlan& plan, const Tracer& tracer);

}  // namespace dj
