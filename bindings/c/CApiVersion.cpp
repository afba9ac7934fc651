// dj_version: the library version reported to hosts and in error messages.
// The string comes from project(dynajit VERSION ...) in the top-level CMakeLists.txt.
#include "bindings/c/dynajit.h"

extern "C" const char* dj_version(void) noexcept { return DJ_VERSION_STRING; }
