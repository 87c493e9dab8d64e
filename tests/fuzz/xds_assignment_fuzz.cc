// EDS resources from a control plane or a file, decoded, validated and applied. The first input
// byte picks the entry point, the rest is its input:
//   0: ClusterLoadAssignment (binary) -> decodeAssignment()
//   1: DiscoveryResponse (binary)     -> EdsApplier::applySotw(), as the gRPC and REST sources
//   2: DeltaDiscoveryResponse (binary)-> EdsApplier::applyDelta(), as the delta gRPC source
//   3, 4, 5: a discovery file (.json, .yaml, .pb_text) -> parseDiscoveryFile() -> applySotw()
// Invariants: nothing throws; a rejected (NACKed) response changes no cluster's endpoints; an
// accepted one applies to every subscribed cluster (update_rejected stays 0, which would mean
// decodeAssignment() let through what the host set builder refuses); a decoded assignment has
// only valid ports and no endpoint twice.

#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "fuzz_check.h"
#include "wslb/upstream/cluster_state.h"
#include "wslb/xds/assignment.h"
#include "wslb/xds/discovery_file.h"
#include "wslb/xds/eds_applier.h"

namespace {

using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryResponse;
using wslb::xds::EdsApplier;
using wslb::xds::EdsTarget;

// Two EDS clusters subscribed by cluster name and a third through a service_name shared with
// the second (two clusters on one resource).
struct Fixture {
  Fixture() {
    add("backend", "backend", 2);
    add("ws", "ws-service", 0);
    add("ws-copy", "ws-service", 5);
    std::vector<EdsTarget*> pointers;
    for (auto& t : targets) pointers.push_back(t.get());
    applier = std::make_unique<EdsApplier>(
        pointers,
        [this](const wslb::upstream::ClusterStateSharedPtr&,
               std::vector<wslb::upstream::HostSharedPtr> r) { removed += r.size(); },
        [] {});
  }
  void add(const std::string& name, const std::string& resource, uint32_t per_host) {
    wslb::config::Cluster cluster;
    cluster.name = name;
    cluster.type = wslb::config::Cluster::Type::kEds;
    cluster.per_host_max_connections = per_host;
    auto target = std::make_unique<EdsTarget>();
    target->cluster = std::make_shared<wslb::upstream::ClusterState>(cluster, nullptr);
    target->resource_name = resource;
    targets.push_back(std::move(target));
  }
  std::vector<wslb::upstream::HostSetConstSharedPtr> hostSets() const {
    std::vector<wslb::upstream::HostSetConstSharedPtr> out;
    for (const auto& t : targets) out.push_back(t->cluster->hostSet());
    return out;
  }
  void checkOutcome(const std::string& error,
                    const std::vector<wslb::upstream::HostSetConstSharedPtr>& before) const {
    if (!error.empty()) {
      WSLB_FUZZ_CHECK(hostSets() == before);  // all or nothing
      for (const auto& t : targets) WSLB_FUZZ_CHECK(t->initialized);
    } else {
      for (const auto& t : targets) WSLB_FUZZ_CHECK(t->cluster->stats().update_rejected == 0);
    }
  }
  std::vector<std::unique_ptr<EdsTarget>> targets;
  std::unique_ptr<EdsApplier> applier;
  size_t removed = 0;
};

void checkAssignment(const wslb::xds::Assignment& a) {
  std::set<std::pair<std::string, uint32_t>> seen;
  for (const auto& e : a.endpoints) {
    WSLB_FUZZ_CHECK(e.address.port >= 1 && e.address.port <= 65535);
    WSLB_FUZZ_CHECK(seen.emplace(e.address.address, e.address.port).second);
  }
}

void applySotwTwice(const DiscoveryResponse& response) {
  Fixture f;
  for (int round = 0; round < 2; ++round) {  // the second round updates existing hosts
    const auto before = f.hostSets();
    const std::string error = f.applier->applySotw(response.resources(), response.version_info());
    f.checkOutcome(error, before);
    if (!error.empty()) break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    switch (mode % 6) {
      case 0: {
        ClusterLoadAssignment cla;
        if (!cla.ParseFromString(bytes)) return 0;
        wslb::xds::Assignment out;
        if (wslb::xds::decodeAssignment(cla, out).ok()) {
          WSLB_FUZZ_CHECK(out.cluster_name == cla.cluster_name());
          checkAssignment(out);
        }
        google::protobuf::Any any;
        any.PackFrom(cla);
        wslb::xds::Assignment again;
        (void)wslb::xds::unpackAssignment(any, again);
        break;
      }
      case 1: {
        DiscoveryResponse response;
        if (!response.ParseFromString(bytes)) return 0;
        for (const auto& any : response.resources()) {
          wslb::xds::Assignment out;
          if (wslb::xds::unpackAssignment(any, out).ok()) checkAssignment(out);
        }
        applySotwTwice(response);
        break;
      }
      case 2: {
        DeltaDiscoveryResponse response;
        if (!response.ParseFromString(bytes)) return 0;
        Fixture f;
        for (int round = 0; round < 2; ++round) {
          const auto before = f.hostSets();
          const std::string error = f.applier->applyDelta(
              response.resources(), response.removed_resources(), response.system_version_info());
          f.checkOutcome(error, before);
          if (!error.empty()) break;
        }
        (void)f.applier->resourceVersions();
        break;
      }
      default: {
        static const char* const kPaths[] = {"eds.json", "eds.yaml", "eds.pb_text"};
        DiscoveryResponse response;
        if (!wslb::xds::parseDiscoveryFile(kPaths[mode % 6 - 3], bytes, response).empty()) {
          return 0;
        }
        applySotwTwice(response);
        break;
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "exception: %s\n", e.what());
    WSLB_FUZZ_CHECK(!"exception escaped");
  }
  return 0;
}
