#include "wslb/accesslog/filter.h"

#include <chrono>
#include <stdexcept>

namespace wslb::accesslog {
namespace {

using Kind = config::AccessLogFilter::Kind;
using Op = config::AccessLogFilter::Op;

bool compare(Op op, uint64_t actual, uint64_t expected) {
  switch (op) {
    case Op::kEq:
      return actual == expected;
    case Op::kGe:
      return actual >= expected;
    case Op::kLe:
      return actual <= expected;
    case Op::kNe:
      return actual != expected;
  }
  return false;
}

}  // namespace

Filter::Filter(const config::AccessLogFilter& config)
    : kind_(config.kind), op_(config.op), value_(config.value) {
  for (const std::string& name : config.response_flags) {
    const std::optional<ResponseFlag> flag = parseShortName(name);
    if (!flag) throw std::invalid_argument("unknown response flag \"" + name + "\"");
    flags_.set(*flag);
  }
  children_.reserve(config.filters.size());
  for (const config::AccessLogFilter& child : config.filters) children_.emplace_back(child);
}

bool Filter::matches(const AccessLogRecord& record) const noexcept {
  switch (kind_) {
    case Kind::kStatusCode:
      return compare(op_, record.response_code, value_);
    case Kind::kDuration: {
      if (!record.duration) return false;
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*record.duration);
      return compare(op_, ms.count() < 0 ? 0 : static_cast<uint64_t>(ms.count()), value_);
    }
    case Kind::kResponseFlag:
      if (!flags_.any()) return record.response_flags.any();
      return (record.response_flags.bits() & flags_.bits()) != 0;
    case Kind::kNotHealthCheck:
      return true;
    case Kind::kAnd:
      for (const Filter& child : children_) {
        if (!child.matches(record)) return false;
      }
      return true;
    case Kind::kOr:
      for (const Filter& child : children_) {
        if (child.matches(record)) return true;
      }
      return false;
  }
  return false;
}

}  // namespace wslb::accesslog
