#include "relay/buffer_pool.h"

namespace wslb::relay {
namespace {

constexpr size_t kMaxCachedSpills = 64;

struct ThreadBuffers {
  std::unique_ptr<uint8_t[]> scratch{new uint8_t[kRelayChunk]};
  std::vector<std::unique_ptr<uint8_t[]>> spills;
};

ThreadBuffers& threadBuffers() {
  thread_local ThreadBuffers buffers;
  return buffers;
}

}  // namespace

uint8_t* threadScratch() {
  return threadBuffers().scratch.get();
}

std::unique_ptr<uint8_t[]> takeSpillBuffer() {
  auto& spills = threadBuffers().spills;
  if (spills.empty()) return std::unique_ptr<uint8_t[]>(new uint8_t[kRelayChunk]);
  auto b = std::move(spills.back());
  spills.pop_back();
  return b;
}

void giveSpillBuffer(std::unique_ptr<uint8_t[]> buffer) {
  auto& spills = threadBuffers().spills;
  if (buffer && spills.size() < kMaxCachedSpills) spills.push_back(std::move(buffer));
}

}  // namespace wslb::relay
