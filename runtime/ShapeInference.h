// infer_shapes: load-time shape propagation over a graph and its subgraphs
// (SoD2's rank-and-dimension propagation). Every value gets a dtype and a
// SymShape when they can be known: constants fold, model symbols (dim_param)
// flow through, and sizes only known after running become DataDependent symbols.
// A shape function that fails leaves its outputs unknown (the kernels re-check at
// run time); inference never rejects a model on its own.
#pragma once

#include "runtime/Graph.h"
#include "runtime/Status.h"

namespace dj {

void infer_shapes(Graph& graph, int64_t opset);

}  // namespace dj
