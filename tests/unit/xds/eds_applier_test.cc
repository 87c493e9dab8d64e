// Applying EDS responses: all or nothing, counts kept across updates, Envoy's stats.

#include "wslb/xds/eds_applier.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "wslb/upstream/random.h"
#include "wslb/xds/assignment.h"

namespace wslb::xds {
namespace {

using envoy::config::endpoint::v3::ClusterLoadAssignment;
using google::protobuf::Any;
using google::protobuf::RepeatedPtrField;

Any claAny(const std::string& name, std::vector<int> ports) {
  ClusterLoadAssignment cla;
  cla.set_cluster_name(name);
  auto* group = cla.add_endpoints();
  for (int port : ports) {
    auto* socket =
        group->add_lb_endpoints()->mutable_endpoint()->mutable_address()->mutable_socket_address();
    socket->set_address("127.0.0.1");
    socket->set_port_value(port);
  }
  Any any;
  any.PackFrom(cla);
  return any;
}

RepeatedPtrField<Any> resources(std::vector<Any> items) {
  RepeatedPtrField<Any> out;
  for (auto& item : items) *out.Add() = std::move(item);
  return out;
}

struct Fixture {
  explicit Fixture(std::vector<std::string> names) {
    for (const std::string& name : names) {
      config::Cluster cluster;
      cluster.name = name;
      cluster.type = config::Cluster::Type::kEds;
      cluster.per_host_max_connections = 2;
      auto target = std::make_unique<EdsTarget>();
      target->cluster = std::make_shared<upstream::ClusterState>(cluster, nullptr);
      target->resource_name = name;
      pointers.push_back(target.get());
      targets.push_back(std::move(target));
    }
    applier = std::make_unique<EdsApplier>(
        pointers,
        [this](const upstream::ClusterStateSharedPtr&, std::vector<upstream::HostSharedPtr> r) {
          removed.insert(removed.end(), r.begin(), r.end());
        },
        [this] { ++initialized; });
  }
  upstream::ClusterState& cluster(size_t i) { return *targets[i]->cluster; }
  std::vector<std::unique_ptr<EdsTarget>> targets;
  std::vector<EdsTarget*> pointers;
  std::unique_ptr<EdsApplier> applier;
  std::vector<upstream::HostSharedPtr> removed;
  int initialized = 0;
};

uint64_t epochMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

TEST(EdsApplierTest, AppliesSubscribedAssignmentsAndIgnoresOthers) {
  Fixture f({"a", "b"});
  EXPECT_EQ(f.applier->resourceNames(), (std::vector<std::string>{"a", "b"}));
  const uint64_t before = epochMs();
  EXPECT_EQ(f.applier->applySotw(resources({claAny("a", {1, 2}), claAny("zzz", {3})}), "v1"), "");
  // Envoy's update_time and update_duration: set by an applied assignment only.
  EXPECT_GE(f.cluster(0).stats().update_time, before);
  EXPECT_LE(f.cluster(0).stats().update_time, epochMs());
  EXPECT_EQ(f.cluster(0).stats().update_duration.snapshot()->count, 1u);
  EXPECT_EQ(f.cluster(1).stats().update_time, 0u);
  EXPECT_EQ(f.cluster(1).stats().update_duration.snapshot()->count, 0u);
  EXPECT_EQ(f.cluster(0).hostSet()->all_hosts.size(), 2u);
  EXPECT_EQ(f.cluster(0).hostSet()->all_hosts[0]->cap(), 2u);  // per-host default applies
  EXPECT_EQ(f.cluster(0).stats().update_success, 1u);
  EXPECT_EQ(f.cluster(0).stats().version, versionHash("v1"));
  EXPECT_TRUE(f.targets[0]->initialized);
  EXPECT_FALSE(f.targets[1]->initialized);  // nothing for "b" yet: still waiting
  EXPECT_EQ(f.cluster(1).stats().update_empty, 0u);
  EXPECT_EQ(f.initialized, 1);
}

TEST(EdsApplierTest, OneBadResourceRejectsTheWholeResponse) {
  Fixture f({"a", "b"});
  ASSERT_EQ(f.applier->applySotw(resources({claAny("a", {1}), claAny("b", {2})}), "v1"), "");
  const std::string error =
      f.applier->applySotw(resources({claAny("a", {5, 6}), claAny("b", {0})}), "v2");
  EXPECT_NE(error.find("ClusterLoadAssignment \"b\""), std::string::npos) << error;
  EXPECT_NE(error.find("port 0"), std::string::npos) << error;
  // "a" was valid but is not applied either.
  ASSERT_EQ(f.cluster(0).hostSet()->all_hosts.size(), 1u);
  EXPECT_EQ(f.cluster(0).hostSet()->all_hosts[0]->port(), 1);
  EXPECT_EQ(f.cluster(0).stats().update_rejected, 1u);
  EXPECT_EQ(f.cluster(1).stats().update_rejected, 1u);
  EXPECT_EQ(f.cluster(0).stats().version, versionHash("v1"));
  EXPECT_EQ(f.cluster(0).stats().update_duration.snapshot()->count, 1u);  // v1's only
}

// update_duration starts when the update arrived, so what came before the applier (reading and
// decoding a file) counts.
TEST(EdsApplierTest, UpdateDurationRunsFromTheUpdatesArrival) {
  Fixture f({"a"});
  const auto arrived = std::chrono::steady_clock::now() - std::chrono::seconds(2);
  ASSERT_EQ(f.applier->applySotw(resources({claAny("a", {1})}), "v1", arrived), "");
  const auto snapshot = f.cluster(0).stats().update_duration.snapshot();
  EXPECT_EQ(snapshot->count, 1u);
  EXPECT_GE(snapshot->sum, 2000.0);
}

TEST(EdsApplierTest, TheSameClusterTwiceInOneResponseIsRejected) {
  Fixture f({"a"});
  EXPECT_EQ(f.applier->applySotw(resources({claAny("a", {1}), claAny("a", {2})}), "v1"),
            "ClusterLoadAssignment \"a\" appears twice");
  EXPECT_TRUE(f.targets[0]->initialized);  // a rejected first update does not hold start-up
}

TEST(EdsApplierTest, LiveCountsSurviveUpdatesAndRemovalsAreReported) {
  Fixture f({"a"});
  ASSERT_EQ(f.applier->applySotw(resources({claAny("a", {1, 2})}), "v1"), "");
  upstream::FastRandom random(1);
  upstream::Slot slot = f.cluster(0).tryAcquire(random);
  ASSERT_TRUE(slot);
  const upstream::Host* held = &slot.host();
  // Same two pods in another order plus a third: the held pod keeps its count.
  ASSERT_EQ(f.applier->applySotw(resources({claAny("a", {2, 1, 3})}), "v2"), "");
  EXPECT_TRUE(f.removed.empty());
  for (const auto& host : f.cluster(0).hostSet()->all_hosts) {
    EXPECT_EQ(host->active(), host.get() == held ? 1u : 0u) << host->addressString();
  }
  // Drop the held pod: it is reported, flagged, and still counts its connection.
  const int kept = held->port() == 1 ? 2 : 1;
  ASSERT_EQ(f.applier->applySotw(resources({claAny("a", {kept, 3})}), "v3"), "");
  ASSERT_EQ(f.removed.size(), 1u);
  EXPECT_EQ(f.removed[0].get(), held);
  EXPECT_NE(held->healthFlags() & upstream::kPendingDynamicRemoval, 0u);
  EXPECT_EQ(held->active(), 1u);
  slot.reset();
  EXPECT_EQ(held->active(), 0u);
  EXPECT_EQ(f.cluster(0).active(), 0u);
}

TEST(EdsApplierTest, AResponseWithoutTheAssignmentKeepsEndpointsAndCountsEmpty) {
  Fixture f({"a", "b"});
  ASSERT_EQ(f.applier->applySotw(resources({claAny("a", {1}), claAny("b", {2})}), "v1"), "");
  ASSERT_EQ(f.applier->applySotw(resources({claAny("a", {3})}), "v2"), "");
  EXPECT_EQ(f.cluster(1).stats().update_empty, 1u);
  ASSERT_EQ(f.cluster(1).hostSet()->all_hosts.size(), 1u);
  EXPECT_EQ(f.cluster(1).hostSet()->all_hosts[0]->port(), 2);
}

TEST(EdsApplierTest, DeltaUpdatesTrackVersionsAndRemovalKeepsEndpoints) {
  Fixture f({"a"});
  RepeatedPtrField<envoy::service::discovery::v3::Resource> added;
  auto* resource = added.Add();
  resource->set_name("a");
  resource->set_version("r1");
  *resource->mutable_resource() = claAny("a", {1, 2});
  RepeatedPtrField<std::string> none;
  ASSERT_EQ(f.applier->applyDelta(added, none, "s1"), "");
  EXPECT_EQ(f.applier->resourceVersions(), (std::map<std::string, std::string>{{"a", "r1"}}));
  EXPECT_EQ(f.cluster(0).hostSet()->all_hosts.size(), 2u);

  resource->set_name("b");  // name and content disagree
  EXPECT_EQ(f.applier->applyDelta(added, none, "s2"),
            "resource \"b\" holds ClusterLoadAssignment \"a\"");
  EXPECT_EQ(f.cluster(0).stats().update_rejected, 1u);

  RepeatedPtrField<envoy::service::discovery::v3::Resource> nothing;
  RepeatedPtrField<std::string> removed;
  *removed.Add() = "a";
  ASSERT_EQ(f.applier->applyDelta(nothing, removed, "s3"), "");
  EXPECT_EQ(f.cluster(0).stats().update_empty, 1u);
  EXPECT_EQ(f.cluster(0).hostSet()->all_hosts.size(), 2u);
  EXPECT_TRUE(f.applier->resourceVersions().empty());
}

TEST(EdsApplierTest, FailuresAndRejectionsAreCounted) {
  Fixture f({"a"});
  f.applier->countFailure();
  EXPECT_EQ(f.cluster(0).stats().update_failure, 1u);
  EXPECT_EQ(f.cluster(0).stats().update_attempt, 1u);
  EXPECT_FALSE(f.targets[0]->initialized);  // a failed fetch does not end the wait
  f.applier->countRejected();
  EXPECT_EQ(f.cluster(0).stats().update_rejected, 1u);
  EXPECT_TRUE(f.targets[0]->initialized);
}

}  // namespace
}  // namespace wslb::xds
