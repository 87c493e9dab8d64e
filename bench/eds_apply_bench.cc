// Applying an EDS update of N endpoints, end to end on the control-plane side: unpack and
// validate the ClusterLoadAssignment, rebuild the host set reusing the hosts that stay, and
// publish it. Workers never wait for this (they read the published snapshot lock-free).

#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "wslb/xds/eds_applier.h"

namespace {

using namespace wslb;

google::protobuf::Any assignment(int endpoints, int shift) {
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  cla.set_cluster_name("pods");
  auto* group = cla.add_endpoints();
  for (int i = 0; i < endpoints; ++i) {
    // Each update replaces 1% of the endpoints (pods rolling), the rest stay.
    const int n = i < endpoints / 100 ? i + shift * endpoints : i;
    auto* lb = group->add_lb_endpoints();
    auto* socket = lb->mutable_endpoint()->mutable_address()->mutable_socket_address();
    socket->set_address("10." + std::to_string((n >> 16) & 255) + "." +
                        std::to_string((n >> 8) & 255) + "." + std::to_string(n & 255));
    socket->set_port_value(8080);
    lb->mutable_endpoint()->set_hostname("pod-" + std::to_string(n));
  }
  google::protobuf::Any any;
  any.PackFrom(cla);
  return any;
}

void BM_EdsApply(benchmark::State& state) {
  const int endpoints = static_cast<int>(state.range(0));
  config::Cluster cluster;
  cluster.name = "pods";
  cluster.type = config::Cluster::Type::kEds;
  cluster.per_host_max_connections = 100;
  xds::EdsTarget target;
  target.cluster = std::make_shared<upstream::ClusterState>(cluster, nullptr);
  target.resource_name = "pods";
  xds::EdsApplier applier({&target}, nullptr, nullptr);
  // Two alternating updates, so every iteration changes 1% of the set.
  google::protobuf::RepeatedPtrField<google::protobuf::Any> updates[2];
  *updates[0].Add() = assignment(endpoints, 1);
  *updates[1].Add() = assignment(endpoints, 2);
  auto previous_level = spdlog::get_level();
  spdlog::set_level(spdlog::level::warn);
  size_t i = 0;
  for (auto _ : state) {
    const std::string error = applier.applySotw(updates[i % 2], std::to_string(i));
    if (!error.empty()) state.SkipWithError(error.c_str());
    ++i;
  }
  spdlog::set_level(previous_level);
  state.counters["endpoints"] = static_cast<double>(target.cluster->hostSet()->all_hosts.size());
}
BENCHMARK(BM_EdsApply)->Arg(100)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
