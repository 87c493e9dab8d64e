#pragma once
// The live stats as a prometheus-cpp Collectable, so prometheus-cpp's Exposer (the dedicated
// metrics listener) serves exactly what admin /stats/prometheus serves: the same samples, read
// from the same atomics at scrape time, never a second copy of any count.

#include <prometheus/collectable.h>

#include <functional>
#include <vector>

#include "wslb/stats/stat.h"

namespace wslb::stats {

class PrometheusCollectable final : public prometheus::Collectable {
 public:
  /// @param source returns every current sample; called on the scraping thread.
  explicit PrometheusCollectable(std::function<std::vector<Stat>()> source)
      : source_(std::move(source)) {}

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::function<std::vector<Stat>()> source_;
};

}  // namespace wslb::stats
