#pragma once
// Per-thread scratch and spill buffers for the relay. Each worker thread has its own, so nothing
// here is shared or locked.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace wslb::relay {

inline constexpr size_t kRelayChunk = 64 * 1024;

/// The calling thread's scratch buffer (kRelayChunk bytes). Valid only until the caller returns
/// to the event loop: never hold it across an asynchronous operation.
uint8_t* threadScratch();

/// A kRelayChunk-byte buffer from the calling thread's free list (allocated if empty).
std::unique_ptr<uint8_t[]> takeSpillBuffer();
/// Returns a buffer to the calling thread's free list (kept up to a small bound).
void giveSpillBuffer(std::unique_ptr<uint8_t[]> buffer);

}  // namespace wslb::relay
