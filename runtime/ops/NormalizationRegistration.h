// The parts of the normalization family that live in their own files; each
// registers its ops (kernel + shape function). register_normalization_ops() calls them.
#pragma once

namespace dj {
class OpRegistry;

void register_softmax_ops(OpRegistry& r);         // NormalizationSoftmax.cpp: Softmax, LogSoftmax, Hardmax
void register_layer_instance_ops(OpRegistry& r);  // NormalizationLayerInstance.cpp: LayerNormalization, InstanceNormalization
void register_batch_norm_op(OpRegistry& r);       // NormalizationBatch.cpp: BatchNormalization

}  // namespace dj
