#pragma once
// Memory for the relay's long-lived asynchronous operations: the readiness wait each direction
// keeps pending and the idle timer's wait.
//
// Asio's default handler memory keeps the last blocks a thread freed and hands one to the next
// operation if it is large enough, whatever its size. The waits an idle relay leaves pending
// were therefore sitting in blocks left over from the HTTP phase (a 176-byte wait in a 304- or
// 672-byte block): on average ~465 bytes per idle connection more than the operations need.
// Here a block is taken from a per-thread free list of its malloc size class, so a pending wait
// holds a block of its own size, and re-arming a wait after every read still costs no malloc.
//
// Thread safety: the free lists are per thread; a block may be freed on another thread than the
// one that allocated it (it then joins that thread's list).

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace wslb::relay {

/// A block of at least `size` bytes, aligned for any fundamental type.
void* allocateHandlerMemory(size_t size);
/// Gives back a block from allocateHandlerMemory(size) (the same size).
void deallocateHandlerMemory(void* pointer, size_t size) noexcept;

/// The allocator Asio uses for an operation whose handler is wrapped by sized().
template <typename T>
class HandlerAllocator {
 public:
  using value_type = T;
  HandlerAllocator() noexcept = default;
  template <typename U>
  HandlerAllocator(const HandlerAllocator<U>&) noexcept {}  // NOLINT: converting, as allocators

  T* allocate(size_t n) {
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
    return static_cast<T*>(allocateHandlerMemory(n * sizeof(T)));
  }
  void deallocate(T* pointer, size_t n) noexcept {
    deallocateHandlerMemory(pointer, n * sizeof(T));
  }
  template <typename U>
  bool operator==(const HandlerAllocator<U>&) const noexcept {
    return true;
  }
};

/// A completion handler with HandlerAllocator as its associated allocator.
template <typename Handler>
struct SizedHandler {
  Handler handler;

  using allocator_type = HandlerAllocator<void>;
  allocator_type get_allocator() const noexcept { return {}; }

  template <typename... Args>
  void operator()(Args&&... args) {
    handler(std::forward<Args>(args)...);
  }
};

/// Wraps `handler` so that the operation it completes is allocated by HandlerAllocator.
template <typename Handler>
SizedHandler<std::decay_t<Handler>> sized(Handler&& handler) {
  return {std::forward<Handler>(handler)};
}

}  // namespace wslb::relay
