// FrameTracker on arbitrary byte streams cut at arbitrary places. The first input byte picks the
// masking and RSV policy, the next 8 seed the chunk sizes; the rest is the stream. Invariants:
//  - fed one byte at a time, in one chunk, in random chunks, or through feedToBoundary(), the
//    tracker ends in the same state (counters, error, close code, message state);
//  - at every chunk end its state equals the byte-at-a-time state at that offset;
//  - feedToBoundary() stops exactly at the frame boundaries the byte-at-a-time run saw;
//  - the counters agree with a plain reference parser of RFC 6455 frame headers.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "fuzz_check.h"
#include "wslb/websocket/frame_tracker.h"

namespace {

using wslb::websocket::FrameError;
using wslb::websocket::FrameTracker;

struct State {
  uint64_t frames = 0;
  uint64_t messages = 0;
  uint32_t pings = 0;
  uint32_t pongs = 0;
  uint32_t closes = 0;
  uint32_t message_bytes = 0;
  std::optional<uint16_t> close_code;
  std::optional<uint64_t> to_frame_end;
  FrameError error = FrameError::kNone;
  bool ok = true;
  bool boundary = true;
  bool in_message = false;
  bool operator==(const State&) const = default;
};

State stateOf(const FrameTracker& t) {
  return State{t.frames(), t.messages(),     t.pings(),           t.pongs(),
               t.closes(), t.messageBytes(), t.closeCode(),       t.bytesToFrameEnd(),
               t.error(),  t.ok(),           t.atFrameBoundary(), t.inMessage()};
}

// Small deterministic generator for chunk sizes (xorshift64*).
struct Rng {
  uint64_t s;
  uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1DULL;
  }
};

// Frame headers parsed straight from the whole buffer, independently of FrameTracker, counting
// only what does not depend on its validation rules: it stops where the tracker reported an error.
struct Reference {
  uint64_t frames = 0;
  uint64_t messages = 0;
  uint32_t pings = 0;
  uint32_t pongs = 0;
  std::vector<size_t> boundaries{0};
};

Reference referenceParse(const uint8_t* p, size_t n, size_t stop) {
  Reference r;
  size_t pos = 0;
  while (pos + 2 <= stop) {
    const uint8_t b0 = p[pos];
    const uint8_t b1 = p[pos + 1];
    size_t header = 2;
    uint64_t length = b1 & 0x7f;
    if (length == 126 || length == 127) {
      const size_t ext = length == 126 ? 2 : 8;
      if (pos + 2 + ext > stop) break;
      length = 0;
      for (size_t i = 0; i < ext; ++i) length = (length << 8) | p[pos + 2 + i];
      header += ext;
    }
    if ((b1 & 0x80) != 0) header += 4;
    if (pos + header > stop) break;
    ++r.frames;
    const uint8_t opcode = b0 & 0x0f;
    if (opcode == 0x9) ++r.pings;
    if (opcode == 0xa) ++r.pongs;
    if (length > n - pos - header) break;  // the frame runs past the end of the input
    pos += header + static_cast<size_t>(length);
    if ((b0 & 0x80) != 0 && (opcode & 0x08) == 0) ++r.messages;
    r.boundaries.push_back(pos);
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 9) return 0;
  const auto masking =
      (data[0] & 1) != 0 ? FrameTracker::Masking::kMasked : FrameTracker::Masking::kUnmasked;
  const auto rsv = static_cast<FrameTracker::RsvPolicy>((data[0] >> 1) % 3);
  uint64_t seed = 0;
  for (size_t i = 1; i < 9; ++i) seed = (seed << 8) | data[i];
  const uint8_t* stream = data + 9;
  const size_t n = size - 9;

  // Byte at a time: the state after every prefix.
  std::vector<State> at(n + 1);
  std::vector<size_t> boundaries;
  size_t error_offset = n + 1;  // offset after which the tracker is in error
  {
    FrameTracker t(masking, rsv);
    at[0] = stateOf(t);
    boundaries.push_back(0);
    for (size_t i = 0; i < n; ++i) {
      const bool was_ok = t.ok();
      WSLB_FUZZ_CHECK(t.feed(stream + i, 1) == t.ok());
      at[i + 1] = stateOf(t);
      if (was_ok && !t.ok()) error_offset = i + 1;
      if (t.atFrameBoundary()) boundaries.push_back(i + 1);
      // Counters never go back, and nothing changes after an error.
      WSLB_FUZZ_CHECK(at[i + 1].frames >= at[i].frames);
      WSLB_FUZZ_CHECK(at[i + 1].messages >= at[i].messages);
      WSLB_FUZZ_CHECK(at[i + 1].messages <= at[i + 1].frames);
      if (!at[i].ok) WSLB_FUZZ_CHECK(at[i + 1] == at[i]);
      WSLB_FUZZ_CHECK(at[i + 1].ok == (at[i + 1].error == FrameError::kNone));
      WSLB_FUZZ_CHECK(!at[i + 1].boundary || at[i + 1].to_frame_end == uint64_t{0});
      WSLB_FUZZ_CHECK(at[i + 1].ok || !at[i + 1].to_frame_end.has_value());
    }
  }
  const State& final_state = at[n];

  // One chunk.
  {
    FrameTracker t(masking, rsv);
    t.feed(stream, n);
    WSLB_FUZZ_CHECK(stateOf(t) == final_state);
  }

  // Random chunks (empty ones included), checked at every chunk end; a copy taken mid-stream
  // carries on independently.
  {
    Rng rng{seed | 1};
    FrameTracker t(masking, rsv);
    std::optional<FrameTracker> copy;
    size_t copy_at = 0;
    size_t pos = 0;
    while (pos < n) {
      const uint64_t r = rng.next();
      size_t len = static_cast<size_t>(r % 4 == 0 ? r % 17 : (r >> 8) % (n - pos + 1));
      if (len > n - pos) len = n - pos;
      t.feed(stream + pos, len);
      pos += len;
      WSLB_FUZZ_CHECK(stateOf(t) == at[pos]);
      if (!copy && (r & 0x30) == 0) {
        copy = t;
        copy_at = pos;
      }
    }
    if (copy) {
      copy->feed(stream + copy_at, n - copy_at);
      WSLB_FUZZ_CHECK(stateOf(*copy) == final_state);
    }
  }

  // feedToBoundary(): at a boundary it takes nothing, so one byte is fed to start the header (a
  // header is at least 2 bytes, so that byte never ends a frame); then it must stop exactly at
  // the next boundary.
  {
    FrameTracker t(masking, rsv);
    std::vector<size_t> stops{0};
    size_t pos = 0;
    size_t guard = 0;
    while (pos < n) {
      WSLB_FUZZ_CHECK(++guard <= 2 * n + 2);
      if (t.atFrameBoundary()) {
        WSLB_FUZZ_CHECK(t.feedToBoundary(stream + pos, n - pos) == 0);
        t.feed(stream + pos, 1);
        ++pos;
        WSLB_FUZZ_CHECK(!t.atFrameBoundary());
        continue;
      }
      const size_t took = t.feedToBoundary(stream + pos, n - pos);
      WSLB_FUZZ_CHECK(took <= n - pos);
      pos += took;
      WSLB_FUZZ_CHECK(stateOf(t) == at[pos]);
      if (t.atFrameBoundary()) {
        stops.push_back(pos);
      } else {
        WSLB_FUZZ_CHECK(pos == n);
      }
    }
    WSLB_FUZZ_CHECK(stateOf(t) == final_state);
    WSLB_FUZZ_CHECK(stops == boundaries);
  }

  // The reference parser, up to the first error.
  {
    const size_t stop = error_offset <= n ? error_offset - 1 : n;
    const Reference ref = referenceParse(stream, n, stop);
    // Before the error the tracker saw exactly the frames whose headers ended before it.
    const State& before = error_offset <= n ? at[error_offset - 1] : final_state;
    WSLB_FUZZ_CHECK(ref.frames == before.frames);
    WSLB_FUZZ_CHECK(ref.messages == before.messages);
    WSLB_FUZZ_CHECK(ref.pings == before.pings);
    WSLB_FUZZ_CHECK(ref.pongs == before.pongs);
    if (error_offset > n) WSLB_FUZZ_CHECK(ref.boundaries == boundaries);
  }
  return 0;
}
