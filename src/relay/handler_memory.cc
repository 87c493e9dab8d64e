#include "wslb/relay/handler_memory.h"

#include <array>

namespace wslb::relay {
namespace {

// glibc's malloc hands out chunks of 16-byte multiples with an 8-byte header: a request of
// 16k - 8 bytes uses the whole chunk. Blocks up to kMaxPooled bytes are kept per class.
constexpr size_t kGranule = 16;
constexpr size_t kHeader = 8;
constexpr size_t kMaxPooled = 512;
constexpr size_t kClasses = (kMaxPooled + kHeader) / kGranule + 1;
// Blocks kept per class and thread: enough for a burst of re-arms, small when idle.
constexpr size_t kMaxCachedPerClass = 64;

size_t classOf(size_t size) {
  return (size + kHeader + kGranule - 1) / kGranule;
}
size_t blockSize(size_t cls) {
  return cls * kGranule - kHeader;
}

struct FreeBlock {
  FreeBlock* next;
};

struct FreeLists {
  std::array<FreeBlock*, kClasses> heads{};
  std::array<size_t, kClasses> counts{};

  FreeLists() = default;
  FreeLists(const FreeLists&) = delete;
  FreeLists& operator=(const FreeLists&) = delete;
  ~FreeLists() {
    for (FreeBlock* block : heads) {
      while (block != nullptr) {
        FreeBlock* next = block->next;
        ::operator delete(block);
        block = next;
      }
    }
  }
};

// The thread's lists; null once they have been destroyed at thread exit (an operation destroyed
// after that, by a static's destructor for instance, goes straight to operator delete).
thread_local FreeLists* t_lists = nullptr;
thread_local bool t_lists_destroyed = false;

struct ListsOwner {
  FreeLists lists;
  ListsOwner() { t_lists = &lists; }
  ListsOwner(const ListsOwner&) = delete;
  ListsOwner& operator=(const ListsOwner&) = delete;
  ~ListsOwner() {
    t_lists = nullptr;
    t_lists_destroyed = true;
  }
};

FreeLists* freeLists() {
  if (t_lists != nullptr || t_lists_destroyed) return t_lists;
  thread_local ListsOwner owner;
  return t_lists;
}

}  // namespace

void* allocateHandlerMemory(size_t size) {
  if (size > kMaxPooled) return ::operator new(size);
  const size_t cls = classOf(size);
  if (FreeLists* lists = freeLists(); lists != nullptr) {
    if (FreeBlock* block = lists->heads[cls]; block != nullptr) {
      lists->heads[cls] = block->next;
      --lists->counts[cls];
      return block;
    }
  }
  return ::operator new(blockSize(cls));
}

void deallocateHandlerMemory(void* pointer, size_t size) noexcept {
  if (pointer == nullptr) return;
  if (size > kMaxPooled) {
    ::operator delete(pointer);
    return;
  }
  const size_t cls = classOf(size);
  FreeLists* lists = freeLists();
  if (lists == nullptr || lists->counts[cls] >= kMaxCachedPerClass) {
    ::operator delete(pointer);
    return;
  }
  auto* block = static_cast<FreeBlock*>(pointer);
  block->next = lists->heads[cls];
  lists->heads[cls] = block;
  ++lists->counts[cls];
}

}  // namespace wslb::relay
