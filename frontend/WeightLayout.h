// WeightLayout: load-time layout of constant weights, so that products read them
// along contiguous rows. Today one rewrite: Gemm(A, B, C, transB=1) whose B is an
// f32 initializer gets B stored transposed and transB=0 — the form torch exports
// nn.Linear in, which otherwise makes every GEMM (interpreted or compiled) read B
// column-wise. Exact: a transpose moves values, it computes nothing. A B that
// other nodes also read keeps its value; the Gemm then reads a new initializer.
// Runs on every graph of the model (If/Loop/Scan bodies included), before shape
// inference.
#pragma once

#include "runtime/Graph.h"

namespace dj {

// Returns how many Gemm nodes were rewritten.
int store_gemm_weights_untransposed(Graph& graph);

}  // namespace dj
