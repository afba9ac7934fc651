// PathTrace: a trace through an If. A Compute region's compiled code may go on
// through the If node right after it into the branch the traced runs took, so the
// hot path runs as one piece of compiled code: no If kernel, no subgraph frame,
// no second dispatch. The If's condition becomes the path's guard: when it picks
// the other branch, the path *side-exits* — the region's outputs go to the frame
// and the interpreter runs the If (and the other branch, compiled or not) itself.
//
// A path exists for a Compute region H, branch b, when:
//   - the next region of H's graph is a Control region holding one If node that
//     starts right where H ends;
//   - every value the path needs — the If's condition, the outer values branch b
//     captures, and b's outputs that are captures — is an input or an output of H,
//     or a constant;
//   - branch b's graph is one Compute region with closed shapes, whose inputs'
//     dtypes are known, so the body can be specialized for the shapes H's
//     signature implies (PathTail::body_signature).
// The body is checked against its own guard on every run as well (run_path): a
// path never runs code on shapes it was not built for.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/Region.h"
#include "runtime/ShapeSignature.h"
#include "specializer/FusionPlan.h"

namespace dj::specializer {

class SpecializedRegion;

// Where a value of the path comes from, at run time.
struct PathValueSource {
  enum class Kind : uint8_t { HeadInput, HeadOutput, Constant, BodyOutput };
  Kind kind = Kind::HeadOutput;
  size_t index = 0;   // into the head's Region::inputs / Region::outputs, or the body's Region::outputs
  Tensor constant;    // Kind::Constant
};

struct PathTail {
  int branch = -1;                  // 0 then_branch, 1 else_branch
  const Node* if_node = nullptr;
  const Region* control = nullptr;  // the If's region
  const Region* body = nullptr;     // the branch's one region
  PathValueSource condition;
  std::vector<PathValueSource> body_inputs;  // per body Region::inputs
  std::vector<PathValueSource> if_outputs;   // per If output, from the branch graph's outputs
  SignatureWords body_signature;             // the body's input shapes under the head's plan
  std::shared_ptr<const SpecializedRegion> body_code;  // the body specialized for body_signature
};

// The path from the region of `head_plan` (an exact plan) through the If after it
// into `branch`; Unsupported, with the reason, when there is none. body_code is
// left empty (the specializer builds it).
Expected<PathTail> plan_path_tail(const RegionPlan& regions, const FusionPlan& head_plan, int branch);

// The If region right after `head` in its graph, or null.
const Region* if_region_after(const RegionPlan& regions, const Region& head);

}  // namespace dj::specializer
