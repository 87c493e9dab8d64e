// Cost of choosing and reserving a host, and of rebuilding a host set on an endpoint update.
//
// BM_PickRelease: Picker::pick() + Host::release(), the picker alone.
// BM_ClusterAcquireRelease: ClusterState::tryAcquire() + Slot destruction, the full data path
// (snapshot, host CAS, cluster CAS, shared_ptr copies).
// Hosts start with random loads below their caps so least-request has real choices to make.

#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "wslb/upstream/cluster_state.h"
#include "wslb/upstream/host_set.h"
#include "wslb/upstream/picker.h"

namespace wslb::upstream {
namespace {

config::Cluster benchCluster(int hosts) {
  config::Cluster config;
  config.name = "bench";
  config.per_host_max_connections = 1000;
  config.default_thresholds.max_connections = config::kUnlimited;
  for (int i = 0; i < hosts; ++i) {
    config::Endpoint e;
    e.address.address = "10." + std::to_string(i / 65536 % 256) + "." +
                        std::to_string(i / 256 % 256) + "." + std::to_string(i % 256);
    e.address.port = 8080;
    e.weight = 1 + static_cast<uint32_t>(i % 3);
    config.endpoints.push_back(e);
  }
  return config;
}

struct Fixture {
  explicit Fixture(int hosts) : config(benchCluster(hosts)) {
    set = buildHostSet(config, nullptr);
    FastRandom random(1);
    for (const auto& host : set->all_hosts) {
      for (uint64_t n = random.next() % 500; n > 0; --n) host->tryAcquire();
    }
    picker = makePicker(config::LbPolicy::kLeastRequest);
    cluster = std::make_shared<ClusterState>(config, set);
  }
  config::Cluster config;
  HostSetConstSharedPtr set;
  PickerPtr picker;
  ClusterStateSharedPtr cluster;
};

Fixture& fixture(int hosts) {
  // Built once per size, before any thread of a run uses it (static initialisation is atomic).
  static std::map<int, std::unique_ptr<Fixture>> fixtures = [] {
    std::map<int, std::unique_ptr<Fixture>> m;
    for (int n : {3, 100, 10'000}) m.emplace(n, std::make_unique<Fixture>(n));
    return m;
  }();
  return *fixtures.at(hosts);
}

void BM_PickRelease(benchmark::State& state) {
  Fixture& f = fixture(static_cast<int>(state.range(0)));
  Random& random = threadRandom();
  for (auto _ : state) {
    HostSharedPtr host = f.picker->pick(*f.set, random);
    benchmark::DoNotOptimize(host.get());
    host->release();
  }
}
BENCHMARK(BM_PickRelease)->Arg(3)->Arg(100)->Arg(10'000)->Threads(1)->Threads(2)->UseRealTime();

void BM_ClusterAcquireRelease(benchmark::State& state) {
  Fixture& f = fixture(static_cast<int>(state.range(0)));
  Random& random = threadRandom();
  for (auto _ : state) {
    Slot slot = f.cluster->tryAcquire(random);
    benchmark::DoNotOptimize(&slot.host());
  }
}
BENCHMARK(BM_ClusterAcquireRelease)
    ->Arg(3)
    ->Arg(100)
    ->Arg(10'000)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

void BM_BuildHostSetReusing(benchmark::State& state) {
  const config::Cluster config = benchCluster(static_cast<int>(state.range(0)));
  const HostSetConstSharedPtr previous = buildHostSet(config, nullptr);
  for (auto _ : state) {
    HostSetConstSharedPtr next = buildHostSet(config, previous.get());
    benchmark::DoNotOptimize(next.get());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_BuildHostSetReusing)->Arg(10'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace wslb::upstream
