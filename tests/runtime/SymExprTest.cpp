// SymExpr folding, classification and evaluation.
#include "runtime/SymExpr.h"

#include <gtest/gtest.h>

namespace dj {

TEST(SymExprTest, ConstantsFold) {
  SymExpr e = SymExpr(2) * SymExpr(3) + SymExpr(4);
  ASSERT_TRUE(e.is_const());
  EXPECT_EQ(e.const_value(), 10);
  EXPECT_EQ(SymExpr::floor_div(SymExpr(-7), SymExpr(2)).const_value(), -4);
  EXPECT_EQ(SymExpr::ceil_div(SymExpr(7), SymExpr(2)).const_value(), 4);
  EXPECT_EQ(SymExpr::mod(SymExpr(-7), SymExpr(3)).const_value(), 2);
}

TEST(SymExprTest, IdentitiesKeepSymbols) {
  SymExpr seq = SymExpr::symbol("seq");
  EXPECT_TRUE((seq * 1).equals(seq));
  EXPECT_TRUE((seq + 0).equals(seq));
  EXPECT_TRUE((seq - seq).is_const());
  EXPECT_EQ((seq * 0).const_value(), 0);
  EXPECT_EQ((seq * 4).to_string(), "seq*4");
}

TEST(SymExprTest, ClassifiesDims) {
  SymExpr batch = SymExpr::symbol("batch");
  SymExpr nz = SymExpr::symbol("nonzero0", SymbolKind::DataDependent);
  EXPECT_EQ(SymExpr(3).classify(), DimClass::Constant);
  EXPECT_EQ((batch * 2).classify(), DimClass::Symbolic);
  EXPECT_EQ((batch + nz).classify(), DimClass::DataDependent);
}

TEST(SymExprTest, EvaluatesUnderBindings) {
  SymExpr e = SymExpr::floor_div(SymExpr::symbol("seq") * SymExpr::symbol("batch"), SymExpr(4));
  EXPECT_EQ(e.evaluate({{"seq", 10}, {"batch", 2}}).value(), 5);
  EXPECT_FALSE(e.evaluate({{"seq", 10}}).has_value());
  std::vector<std::string> syms;
  e.collect_symbols(syms);
  EXPECT_EQ(syms, (std::vector<std::string>{"seq", "batch"}));
}

}  // namespace dj
