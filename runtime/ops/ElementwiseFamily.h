// ElementwiseFamily: the parts of the elementwise op family, one register
// function per file; register_elementwise_ops (ElementwiseOps.cpp) calls them all.
#pragma once

namespace dj {
class OpRegistry;

namespace elementwise {
void register_arithmetic_ops(OpRegistry& r);     // ElementwiseArithmeticOps.cpp: Add Sub Mul Div Pow Mod BitShift
void register_variadic_ops(OpRegistry& r);       // ElementwiseVariadicOps.cpp: Min Max Sum Mean
void register_compare_logic_ops(OpRegistry& r);  // ElementwiseCompareLogicOps.cpp: Equal Less ... And Or Xor Not Where
void register_math_ops(OpRegistry& r);           // ElementwiseMathOps.cpp: Sqrt Exp Log trig rounding Sign IsNaN IsInf
void register_activation_ops(OpRegistry& r);     // ElementwiseActivationOps.cpp: Relu Sigmoid Elu ... Shrink PRelu Clip Dropout
void register_cast_ops(OpRegistry& r);           // ElementwiseCastOps.cpp: Cast CastLike
}  // namespace elementwise
}  // namespace dj
