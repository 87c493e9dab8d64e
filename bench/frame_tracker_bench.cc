// FrameTracker::feed() throughput on small and large frames, and the handshake accept hash.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "wslb/websocket/frame_tracker.h"
#include "wslb/websocket/handshake.h"

namespace wslb::websocket {
namespace {

using Bytes = std::vector<uint8_t>;

// Appends one masked binary frame with a payload of @p payload bytes.
void appendMaskedFrame(Bytes& out, size_t payload) {
  out.push_back(0x82);
  if (payload < 126) {
    out.push_back(static_cast<uint8_t>(0x80 | payload));
  } else if (payload <= 0xffff) {
    out.push_back(0x80 | 126);
    out.push_back(static_cast<uint8_t>(payload >> 8));
    out.push_back(static_cast<uint8_t>(payload));
  } else {
    out.push_back(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<uint8_t>(payload >> shift));
  }
  for (uint8_t k : {0x37, 0xfa, 0x21, 0x3d}) out.push_back(k);
  out.insert(out.end(), payload, 0x5a);
}

// A relay read of 16 KiB holding 64-byte masked frames (6-byte header, 58-byte payload),
// fed in one call.
void BM_FeedSmallMaskedFrames(benchmark::State& state) {
  Bytes buf;
  while (buf.size() + 64 <= 16384) appendMaskedFrame(buf, 58);
  FrameTracker t(FrameTracker::Masking::kMasked);
  for (auto _ : state) {
    t.feed(buf.data(), buf.size());
    benchmark::DoNotOptimize(t);
  }
  if (!t.ok()) state.SkipWithError("tracker error");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(buf.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(buf.size() / 64));
  state.counters["frame_bytes"] = 64;
}
BENCHMARK(BM_FeedSmallMaskedFrames);

// The same frames with the stream cut into reads of state.range(0) bytes, so headers are split.
void BM_FeedSmallMaskedFramesChunked(benchmark::State& state) {
  Bytes buf;
  while (buf.size() + 64 <= 16384 * 4) appendMaskedFrame(buf, 58);
  const auto chunk = static_cast<size_t>(state.range(0));
  FrameTracker t(FrameTracker::Masking::kMasked);
  for (auto _ : state) {
    for (size_t pos = 0; pos < buf.size(); pos += chunk) {
      t.feed(buf.data() + pos, std::min(chunk, buf.size() - pos));
    }
    benchmark::DoNotOptimize(t);
  }
  if (!t.ok()) state.SkipWithError("tracker error");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(buf.size()));
}
BENCHMARK(BM_FeedSmallMaskedFramesChunked)->Arg(1)->Arg(7)->Arg(1500);

// 64 KiB masked frames fed in 16 KiB chunks, as a relay reading 16 KiB at a time sees them.
void BM_FeedLargeFramesIn16KiBChunks(benchmark::State& state) {
  constexpr size_t kChunk = 16384;
  Bytes buf;
  for (int i = 0; i < 16; ++i) appendMaskedFrame(buf, 65536);
  FrameTracker t(FrameTracker::Masking::kMasked);
  for (auto _ : state) {
    for (size_t pos = 0; pos < buf.size(); pos += kChunk) {
      t.feed(buf.data() + pos, std::min(kChunk, buf.size() - pos));
    }
    benchmark::DoNotOptimize(t);
  }
  if (!t.ok()) state.SkipWithError("tracker error");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(buf.size()));
  state.counters["chunks_per_iter"] = static_cast<double>((buf.size() + kChunk - 1) / kChunk);
}
BENCHMARK(BM_FeedLargeFramesIn16KiBChunks);

void BM_ComputeSecWebSocketAccept(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(computeSecWebSocketAccept("dGhlIHNhbXBsZSBub25jZQ=="));
  }
}
BENCHMARK(BM_ComputeSecWebSocketAccept);

void BM_IsValidSecWebSocketKey(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(isValidSecWebSocketKey("dGhlIHNhbXBsZSBub25jZQ=="));
  }
}
BENCHMARK(BM_IsValidSecWebSocketKey);

}  // namespace
}  // namespace wslb::websocket
