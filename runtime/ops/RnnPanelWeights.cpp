// Packing of recurrent weights into unit panels (see RnnPanelWeights.h).
#include "runtime/ops/RnnPanelWeights.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "runtime/OpRegistry.h"

namespace dj {

void RnnPanelWeights::Free::operator()(float* p) const { std::free(p); }

RnnPanelWeights::RnnPanelWeights(const RnnPanelLayout& layout) : layout_(layout) {
  const size_t bytes = (this->bytes() + 63) / 64 * 64;
  float* p = static_cast<float*>(std::aligned_alloc(64, bytes == 0 ? 64 : bytes));
  if (!p) throw AllocationError("RNN weight panels of " + std::to_string(bytes) + " bytes");
  std::memset(p, 0, bytes);
  data_.reset(p);
}

int rnn_panel_unit_vecs(int gates) { return gates >= 3 ? 1 : gates == 2 ? 2 : 4; }

std::shared_ptr<const RnnPanelWeights> pack_rnn_panels(const Tensor& w, int gates, int lanes) {
  RnnPanelLayout layout;
  layout.directions = w.dim(0);
  layout.hidden = w.dim(1) / gates;
  layout.depth = w.dim(2);
  layout.gates = gates;
  layout.lanes = lanes;
  layout.unit_vecs = rnn_panel_unit_vecs(gates);
  auto packed = std::make_shared<RnnPanelWeights>(layout);
  const int64_t hd = layout.hidden, depth = layout.depth, upp = layout.units_per_panel();
  const int64_t slots = int64_t{gates} * layout.unit_vecs;
  bool finite = true;
  dispatch_dtype(w.dtype(), FloatTypes{}, [&](auto tag) {
    using S = decltype(tag);
    const S* src = w.data<S>();
    for (int64_t d = 0; d < layout.directions; ++d) {
      const S* wd = src + d * gates * hd * depth;
      float* dst = packed->mutable_direction(d);
      for (int64_t p = 0; p < layout.panels(); ++p) {
        float* panel = dst + p * layout.panel_floats();
        for (int64_t j = 0; j < slots; ++j) {
          const int64_t g = j / layout.unit_vecs;
          const int64_t first = p * upp + (j % layout.unit_vecs) * lanes;
          for (int64_t l = 0; l < lanes && first + l < hd; ++l) {
            // One weight row (a unit of gate g) becomes one lane of every panel row.
            const S* row = wd + (g * hd + first + l) * depth;
            float* col = panel + j * lanes + l;
            for (int64_t k = 0; k < depth; ++k) {
              const float v = static_cast<float>(static_cast<typename ComputeType<S>::type>(row[k]));
              finite = finite && std::isfinite(v);
              col[k * layout.row_floats()] = v;
            }
          }
        }
      }
    }
  });
  packed->set_all_finite(finite);
  return packed;
}

}  // namespace dj
