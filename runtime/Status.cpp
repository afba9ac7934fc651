// Names of status codes.
#include "runtime/Status.h"

namespace dj {
const char* status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::Ok: return "ok";
    case StatusCode::InvalidArgument: return "invalid argument";
    case StatusCode::InvalidModel: return "invalid model";
    case StatusCode::Unsupported: return "unsupported";
    case StatusCode::OutOfMemory: return "out of memory";
    case StatusCode::IoError: return "i/o error";
    case StatusCode::Internal: return "internal error";
  }
  return "unknown";
}
}  // namespace dj
