// The bootstrap loader on arbitrary text: loadBootstrapFromString() never throws and never
// crashes; it returns a Bootstrap iff it reports no error, and never an "internal error" (a
// reader using a node without checking its kind). A configuration it accepts must also start:
// the cluster manager and every listener's router are built from it as Server does, which
// throws on anything validation should have rejected. parseDuration() gets the same text.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string_view>

#include "fuzz_check.h"
#include "wslb/config/loader.h"
#include "wslb/http/listener_context.h"
#include "wslb/upstream/cluster_manager.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto d = wslb::config::parseDuration(text)) WSLB_FUZZ_CHECK(d->count() >= 0);

  wslb::config::LoadResult result;
  try {
    result = wslb::config::loadBootstrapFromString(text);
  } catch (...) {
    WSLB_FUZZ_CHECK(!"loadBootstrapFromString threw");
  }
  WSLB_FUZZ_CHECK(result.ok() == result.bootstrap.has_value());
  for (const auto& e : result.errors) {
    if (e.message.starts_with("internal error")) {
      std::fprintf(stderr, "%s\n", e.str().c_str());
      WSLB_FUZZ_CHECK(!"reader threw");
    }
  }
  if (!result.ok()) return 0;

  try {
    const auto& bootstrap = *result.bootstrap;
    wslb::upstream::ClusterManager clusters(bootstrap.clusters);
    for (const auto& l : bootstrap.listeners) {
      auto context = std::make_unique<wslb::http::ListenerContext>(l.name, l.hcm, clusters);
      (void)context->router.match("example.com", "/");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "accepted configuration does not start: %s\n", e.what());
    WSLB_FUZZ_CHECK(!"accepted configuration does not start");
  }
  return 0;
}
