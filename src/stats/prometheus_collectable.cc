#include "wslb/stats/prometheus_collectable.h"

#include "wslb/stats/render.h"

namespace wslb::stats {

std::vector<prometheus::MetricFamily> PrometheusCollectable::Collect() const {
  return toFamilies(source_());
}

}  // namespace wslb::stats
