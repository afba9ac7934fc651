// Shared by the GPU tests: get the device context or skip the test (or fail it when
// DJ_TEST_REQUIRE_CUDA=1, so a GPU CI job cannot pass by skipping everything).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>

#include "runtime/cuda/CudaContext.h"

namespace dj::testing {

inline bool cuda_required_by_env() {
  const char* env = std::getenv("DJ_TEST_REQUIRE_CUDA");
  return env && *env && std::string(env) != "0";
}

}  // namespace dj::testing

// Declares `CudaContext& name` or skips the test with the reason no GPU is usable.
#define DJ_CUDA_CONTEXT_OR_SKIP(name)                                                      \
  ::dj::Expected<::dj::CudaContext*> name##_or = ::dj::CudaContext::get();                  \
  if (!name##_or.ok()) {                                                                   \
    if (::dj::testing::cuda_required_by_env())                                             \
      FAIL() << "DJ_TEST_REQUIRE_CUDA is set but: " << name##_or.status().to_string();      \
    GTEST_SKIP() << "no usable CUDA device: " << name##_or.status().to_string();            \
  }                                                                                        \
  ::dj::CudaContext& name = *name##_or.value()
