// Device requests: parsing, DJ_DEVICE, and the requests that need no driver.
#include <gtest/gtest.h>

#include <cstdlib>

#include "runtime/Device.h"

namespace dj {
namespace {

TEST(DeviceRequest, ParsesTheThreeNames) {
  ASSERT_TRUE(parse_device_request("cpu").ok());
  EXPECT_EQ(parse_device_request("cpu").value(), DeviceRequest::Cpu);
  EXPECT_EQ(parse_device_request("cuda").value(), DeviceRequest::Cuda);
  EXPECT_EQ(parse_device_request("auto").value(), DeviceRequest::Auto);
}

TEST(DeviceRequest, RejectsOtherNamesListingTheAcceptedOnes) {
  for (const char* bad : {"", "gpu", "CUDA", "cuda ", "cuda:0", "tpu"}) {
    Expected<DeviceRequest> r = parse_device_request(bad);
    ASSERT_FALSE(r.ok()) << "'" << bad << "' was accepted";
    EXPECT_EQ(r.status().code(), StatusCode::InvalidArgument);
    std::string quoted = "'";  // (built with append: GCC 12 warns falsely on "'" + std::string(bad))
    quoted.append(bad).append("'");
    EXPECT_NE(r.status().message().find(quoted), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("cpu, cuda, auto"), std::string::npos) << r.status().message();
  }
}

TEST(DeviceRequest, NamesRoundTrip) {
  for (DeviceRequest r : {DeviceRequest::Cpu, DeviceRequest::Cuda, DeviceRequest::Auto}) {
    EXPECT_EQ(parse_device_request(device_request_name(r)).value(), r);
  }
  EXPECT_STREQ(device_kind_name(DeviceKind::Cpu), "cpu");
  EXPECT_STREQ(device_kind_name(DeviceKind::Cuda), "cuda");
}

TEST(DeviceRequest, FromEnvironment) {
  ::unsetenv("DJ_DEVICE");
  EXPECT_EQ(device_request_from_env(DeviceRequest::Auto), DeviceRequest::Auto);
  EXPECT_EQ(device_request_from_env(DeviceRequest::Cpu), DeviceRequest::Cpu);
  ::setenv("DJ_DEVICE", "cuda", 1);
  EXPECT_EQ(device_request_from_env(DeviceRequest::Cpu), DeviceRequest::Cuda);
  ::setenv("DJ_DEVICE", "cpu", 1);
  EXPECT_EQ(device_request_from_env(DeviceRequest::Auto), DeviceRequest::Cpu);
  ::setenv("DJ_DEVICE", "quantum", 1);  // invalid: the fallback wins (and a warning is logged)
  EXPECT_EQ(device_request_from_env(DeviceRequest::Auto), DeviceRequest::Auto);
  ::unsetenv("DJ_DEVICE");
}

TEST(DeviceRequest, CpuResolvesToCpuWithoutTouchingTheDriver) {
  Expected<DeviceKind> kind = resolve_device(DeviceRequest::Cpu);
  ASSERT_TRUE(kind.ok()) << kind.status().to_string();
  EXPECT_EQ(kind.value(), DeviceKind::Cpu);
}

}  // namespace
}  // namespace dj
