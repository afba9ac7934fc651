// CachedKernels: a SpecializedRegion's compiled kernels as code-cache objects
// and back — the metadata that lets a later process load them with no Halide or
// LLVM work (jit::load_object), only ORC linking.
//
// Per kernel the metadata is a few text lines: the group's kind and tier, the
// input value ids and views, the output id/view/shape, the kernel's argument
// signature, and which cache object holds its object file. Per entry: the region, the guard words and the tier, which
// a warm start uses to recompute the entry's key and so confirm the entry belongs
// to this region of this model before installing it.
#pragma once

#include <string>
#include <vector>

#include "codecache/CacheEntry.h"
#include "runtime/ShapeSignature.h"
#include "specializer/GroupLowering.h"

namespace dj::specializer {

// A specialization's CPU kernels as cache objects, one per kernel in order. Kernels
// that share an object file (compiled as one module, or one kernel used twice)
// store its bytes once: the later ones carry no bytes and name the cache object
// that holds them ("object_in" in the metadata).
std::vector<codecache::CacheObject> kernels_to_cache_objects(const std::vector<LoweredGroup>& kernels);
// Parses the metadata and loads each object file once, with all its kernels, into
// the ORC session. Kernels in `objects` order.
Expected<std::vector<LoweredGroup>> kernels_from_cache_objects(const std::vector<codecache::CacheObject>& objects,
                                                               const std::string& target_key);

struct EntryHeader {
  int32_t region = -1;
  SignatureWords signature;
  bool generic = false;
};
std::string encode_entry_header(const EntryHeader& header);
Expected<EntryHeader> decode_entry_header(const std::string& text);

}  // namespace dj::specializer
