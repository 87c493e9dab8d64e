// Cost of choosing and reserving a host, and of rebuilding a host set on an endpoint update.
//
// BM_PickRelease: Picker::pick() + Host::release(), the picker alone.
// BM_ClusterAcquireRelease: ClusterState::tryAcquire() + Slot destruction, the full data path
// (snapshot, host CAS, cluster CAS, shared_ptr copies).
// Hosts start with random loads below their caps so least-request has real choices to make.
//
// Endpoint updates of 10,000 endpoints (what an EDS push costs the control-plane thread):
// BM_BuildHostSetFresh: buildHostSet() with no previous set (start-up).
// BM_BuildHostSetReusing: with the previous set and the same endpoints.
// BM_BuildHostSetChanged: with the previous set, 1 % of the endpoints replaced by new ones.
// BM_UpdateEndpoints: ClusterState::updateEndpoints() alternating between two such sets
//   (build + publish + waking pending waiters).
// BM_UpdateEndpointsWhileAcquiring: the same while another thread keeps acquiring and releasing
//   slots on the cluster, as workers do while relays flow; reports the acquisitions per second
//   the other thread managed during the updates.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "wslb/upstream/cluster_state.h"
#include "wslb/upstream/host_set.h"
#include "wslb/upstream/picker.h"

namespace wslb::upstream {
namespace {

// 10.a.b.c:8080 for endpoint number i.
config::Endpoint benchEndpoint(int i) {
  config::Endpoint e;
  e.address.address = "10." + std::to_string(i / 65536 % 256) + "." +
                      std::to_string(i / 256 % 256) + "." + std::to_string(i % 256);
  e.address.port = 8080;
  e.weight = 1 + static_cast<uint32_t>(i % 3);
  return e;
}

config::Cluster benchCluster(int hosts) {
  config::Cluster config;
  config.name = "bench";
  config.per_host_max_connections = 1000;
  config.default_thresholds.max_connections = config::kUnlimited;
  for (int i = 0; i < hosts; ++i) config.endpoints.push_back(benchEndpoint(i));
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

void BM_BuildHostSetFresh(benchmark::State& state) {
  const config::Cluster config = benchCluster(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    HostSetConstSharedPtr next = buildHostSet(config, nullptr);
    benchmark::DoNotOptimize(next.get());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_BuildHostSetFresh)->Arg(10'000)->Unit(benchmark::kMillisecond);

// The cluster with its last `changed` endpoints replaced by endpoints numbered from `hosts` up.
config::Cluster changedCluster(int hosts, int changed) {
  config::Cluster config = benchCluster(hosts);
  for (int i = 0; i < changed; ++i) {
    config.endpoints[static_cast<size_t>(hosts - changed + i)] = benchEndpoint(hosts + i);
  }
  return config;
}

void BM_BuildHostSetChanged(benchmark::State& state) {
  const int hosts = static_cast<int>(state.range(0));
  const config::Cluster a = benchCluster(hosts);
  const config::Cluster b = changedCluster(hosts, hosts / 100);
  HostSetConstSharedPtr current = buildHostSet(a, nullptr);
  bool to_b = true;
  for (auto _ : state) {
    current = buildHostSet(to_b ? b : a, current.get());
    to_b = !to_b;
    benchmark::DoNotOptimize(current.get());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_BuildHostSetChanged)->Arg(10'000)->Unit(benchmark::kMillisecond);

void BM_UpdateEndpoints(benchmark::State& state) {
  const int hosts = static_cast<int>(state.range(0));
  const config::Cluster a = benchCluster(hosts);
  const std::vector<config::Endpoint> b = changedCluster(hosts, hosts / 100).endpoints;
  auto cluster = std::make_shared<ClusterState>(a, buildHostSet(a, nullptr));
  bool to_b = true;
  for (auto _ : state) {
    cluster->updateEndpoints(to_b ? b : a.endpoints);
    to_b = !to_b;
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_UpdateEndpoints)->Arg(10'000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_UpdateEndpointsWhileAcquiring(benchmark::State& state) {
  const int hosts = static_cast<int>(state.range(0));
  const config::Cluster a = benchCluster(hosts);
  const std::vector<config::Endpoint> b = changedCluster(hosts, hosts / 100).endpoints;
  auto cluster = std::make_shared<ClusterState>(a, buildHostSet(a, nullptr));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> acquired{0};
  std::thread worker([&] {
    Random& random = threadRandom();
    uint64_t n = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      Slot slot = cluster->tryAcquire(random);
      if (slot) ++n;
    }
    acquired.store(n, std::memory_order_relaxed);
  });
  bool to_b = true;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    cluster->updateEndpoints(to_b ? b : a.endpoints);
    to_b = !to_b;
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  stop.store(true);
  worker.join();
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["acquire_per_s"] =
      static_cast<double>(acquired.load()) / std::max(elapsed.count(), 1e-9);
}
BENCHMARK(BM_UpdateEndpointsWhileAcquiring)
    ->Arg(10'000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace wslb::upstream
