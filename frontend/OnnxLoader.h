// The ONNX frontend: ONNX ModelProto (binary protobuf, or ONNX's textual syntax)
// -> dj::Model (graph IR with symbolic shapes propagated).
//
// Accepts IR versions 3..8 and default-domain opsets 7..17 (13..17 is the tested
// range). Every failure is a Status naming the cause: a truncated or non-ONNX
// file (InvalidModel), an op DynaJIT does not implement (Unsupported, naming the
// op type and the node), a dangling value name, external data, sequence/optional
// types. After loading, shapes are propagated (runtime/ShapeInference.h).
#pragma once

#include <string>

#include "runtime/Graph.h"
#include "runtime/Status.h"

namespace dj {

Expected<Model> load_onnx_file(const std::string& path);
Expected<Model> load_onnx_bytes(const void* data, size_t size, const std::string& source = "<memory>");
// ONNX's textual syntax (onnx/defs/parser.h), e.g.
//   <ir_version: 8, opset_import: ["" : 17]>
//   agraph (float[N, 4] x) => (float[N, 4] y) { y = Relu(x) }
Expected<Model> load_onnx_text(const std::string& text, const std::string& source = "<text>");
// Chooses by content: binary protobuf, or text when the file starts with '<' or "agraph".
Expected<Model> load_model_file(const std::string& path);

}  // namespace dj
