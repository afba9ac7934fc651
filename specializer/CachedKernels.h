// CachedKernels: a SpecializedRegion's compiled kernels as code-cache objects
// and back — the metadata that lets a later process load them with no Halide or
// LLVM work (jit::load_object), only ORC linking.
//
// Per kernel object the metadata is a few text lines: the group's kind and tier,
// the input value ids and views, the output id/view/shape, and the kernel's
// argument signature. Per entry: the region, the guard words and the tier, which
// a warm start uses to recompute the entry's key and so confirm the entry belongs
// to this region of this model before installing it.
#pragma once

#include <string>
#include <vector>

#include "codecache/CacheEntry.h"
#include "runtime/ShapeSignature.h"
#include "specializer/GroupLowering.h"

namespace dj::specializer {

codecache::CacheObject kernel_to_cache_object(const LoweredGroup& group);
// Parses the metadata and loads the object into the ORC session.
Expected<LoweredGroup> kernel_from_cache_object(const codecache::CacheObject& object, const std::string& target_key);

struct EntryHeader {
  int32_t region = -1;
  SignatureWords signature;
  bool generic = false;
};
std::string encode_entry_header(const EntryHeader& header);
Expected<EntryHeader> decode_entry_header(const std::string& text);

}  // namespace dj::specializer
