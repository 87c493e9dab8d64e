// Reading a file-based EDS update of N endpoints: the DiscoveryResponse decoded from YAML, JSON
// and binary protobuf (what a `path_config_source` cluster does on every change of its file).

#include <benchmark/benchmark.h>

#include <string>

#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "wslb/xds/discovery_file.h"

namespace {

std::string address(int n) {
  return "10." + std::to_string((n >> 16) & 255) + "." + std::to_string((n >> 8) & 255) + "." +
         std::to_string(n & 255);
}

// The shape Kubernetes tooling writes: one locality, N endpoints with a hostname and a cap.
std::string yamlResponse(int endpoints) {
  std::string out =
      "version_info: \"7\"\n"
      "resources:\n"
      "- \"@type\": type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment\n"
      "  cluster_name: pods\n"
      "  endpoints:\n"
      "  - lb_endpoints:\n";
  for (int i = 0; i < endpoints; ++i) {
    out += "    - endpoint: {address: {socket_address: {address: ";
    out += address(i);
    out += ", port_value: 8080}}, hostname: pod-";
    out += std::to_string(i);
    out += "}\n      metadata: {filter_metadata: {wslb: {max_connections: 100}}}\n";
  }
  return out;
}

std::string jsonResponse(int endpoints) {
  std::string out =
      "{\"version_info\":\"7\",\"resources\":[{\"@type\":\"type.googleapis.com/"
      "envoy.config.endpoint.v3.ClusterLoadAssignment\",\"cluster_name\":\"pods\","
      "\"endpoints\":[{\"lb_endpoints\":[";
  for (int i = 0; i < endpoints; ++i) {
    if (i > 0) out += ',';
    out += "{\"endpoint\":{\"address\":{\"socket_address\":{\"address\":\"";
    out += address(i);
    out += "\",\"port_value\":8080}},\"hostname\":\"pod-";
    out += std::to_string(i);
    out += "\"},\"metadata\":{\"filter_metadata\":{\"wslb\":{\"max_connections\":100}}}}";
  }
  out += "]}]}]}";
  return out;
}

void parse(benchmark::State& state, const std::string& path, const std::string& content) {
  // Links the resource type in, as wslb's EDS applier does (the JSON parser looks it up by name).
  benchmark::DoNotOptimize(envoy::config::endpoint::v3::ClusterLoadAssignment::descriptor());
  envoy::service::discovery::v3::DiscoveryResponse response;
  for (auto _ : state) {
    const std::string error = wslb::xds::parseDiscoveryFile(path, content, response);
    if (!error.empty()) state.SkipWithError(error.c_str());
    benchmark::DoNotOptimize(response);
  }
  state.counters["MB"] = static_cast<double>(content.size()) / 1e6;
}

void BM_DiscoveryFileYaml(benchmark::State& state) {
  parse(state, "eds.yaml", yamlResponse(static_cast<int>(state.range(0))));
}
void BM_DiscoveryFileJson(benchmark::State& state) {
  parse(state, "eds.json", jsonResponse(static_cast<int>(state.range(0))));
}
void BM_DiscoveryFileBinary(benchmark::State& state) {
  envoy::service::discovery::v3::DiscoveryResponse response;
  const std::string error = wslb::xds::parseDiscoveryFile(
      "eds.json", jsonResponse(static_cast<int>(state.range(0))), response);
  if (!error.empty()) state.SkipWithError(error.c_str());
  parse(state, "eds.pb", response.SerializeAsString());
}
BENCHMARK(BM_DiscoveryFileYaml)->Arg(100)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DiscoveryFileJson)->Arg(100)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DiscoveryFileBinary)->Arg(100)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
