#include "wslb/stats/histogram.h"

#include <algorithm>
#include <cmath>

namespace wslb::stats {

double HistogramSnapshot::quantile(double q) const {
  if (count == 0) return 0;
  const double rank = q * static_cast<double>(count);
  double lower = 0;
  uint64_t below = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (static_cast<double>(cumulative[i]) >= rank && cumulative[i] > below) {
      const double in_bucket = static_cast<double>(cumulative[i] - below);
      return lower + (bounds[i] - lower) * ((rank - static_cast<double>(below)) / in_bucket);
    }
    lower = bounds[i];
    below = cumulative[i];
  }
  return bounds.empty() ? 0 : bounds.back();  // in the +Inf bucket: the largest finite bound
}

}  // namespace wslb::stats
