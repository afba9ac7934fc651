// RegionFingerprint: a stable SHA-256 of what a region computes — the part of a
// code-cache key that names the region's canonical IR.
//
// What goes in: the opset, the region's kind, and for each node in order its op
// type, domain, attributes (by name, sorted; subgraph attributes hashed
// recursively the same way), and its inputs and outputs by *position*: values are
// numbered by first appearance. A value read from outside the region is hashed as
// its dtype and symbolic shape; a constant (initializer or Constant output) as its
// dtype, shape and CONTENTS. Symbols in shapes are numbered by first appearance too.
// What stays out: node, value and graph names, symbol names, the region's id and
// place in the model, and anything about how the file was serialized.
// So a renamed-but-identical model gets the same fingerprints; a different weight,
// attribute, op, dtype or wiring gives different ones.
// Cost: linear in the size of the region's constants (SHA-256 runs at a few
// hundred MB/s): compute once per region per load, not per request.
#pragma once

#include <cstdint>

#include <vector>

#include "codecache/Sha256.h"
#include "runtime/Region.h"

namespace dj::codecache {

// `opset`: the model's default-domain opset (op semantics depend on it).
Digest256 fingerprint_region(const Region& region, int64_t opset);

// The per-model index key: every region's fingerprint in plan order plus the main
// graph's wiring (its constants by dtype and shape only — their contents are
// already in the region fingerprints). Same name-independence as above.
Digest256 fingerprint_model(const Model& model, const RegionPlan& plan);
// The same from region fingerprints already computed (one per region, plan order),
// so that a caller who needs both hashes the weights once.
Digest256 fingerprint_model(const Model& model, const RegionPlan& plan, const std::vector<Digest256>& regions);

}  // namespace dj::codecache
