// ControlFlowKernels: the kernels and shape functions of If, Loop and Scan
// (ControlFlowOps.cpp, ControlFlowLoop.cpp, ControlFlowScan.cpp), registered in
// ControlFlowOps.cpp, and the shape merge they share.
//
// Subgraphs run through KernelContext::run_subgraph, which binds the values a
// subgraph captures from the enclosing frame; a kernel passes only the
// subgraph's formal inputs. Outputs handed back to the enclosing graph are never
// views of caller-owned (borrowed) memory.
#pragma once

#include <optional>
#include <string>

#include "runtime/OpRegistry.h"

namespace dj {

Status if_kernel(KernelContext& ctx);
Status infer_if(ShapeContext& ctx);
Status loop_kernel(KernelContext& ctx);
Status infer_loop(ShapeContext& ctx);
Status scan_kernel(KernelContext& ctx);
Status infer_scan(ShapeContext& ctx);

// Two shapes one value may have (the two If branches; a loop-carried value before
// and after an iteration): nullopt when a rank is unknown or the ranks differ,
// else equal dims are kept and differing dims become ctx.fresh_dim(hint).
std::optional<SymShape> merge_sym_shapes(const std::optional<SymShape>& a, const std::optional<SymShape>& b,
                                         ShapeContext& ctx, const std::string& hint);

// What a value handed out of a subgraph becomes as a node output: contiguous and
// never borrowed from the caller (a borrowed one is copied).
Tensor detach_for_output(const Tensor& t);

}  // namespace dj
