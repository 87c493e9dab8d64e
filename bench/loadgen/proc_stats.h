#pragma once
// What the load generator reads about processes: CPU time and resident memory.

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace wslb::loadgen {

/// utime + stime of process @p pid (all its threads) from /proc/<pid>/stat, in seconds.
std::optional<double> processCpuSeconds(pid_t pid);

/// VmRSS of process @p pid from /proc/<pid>/status, in KiB.
std::optional<uint64_t> processRssKb(pid_t pid);

/// User + system CPU time of this process (all threads) so far, in seconds (getrusage).
double selfCpuSeconds();

/// CLOCK_MONOTONIC in nanoseconds.
uint64_t monotonicNs() noexcept;

/// Raises the soft RLIMIT_NOFILE to the hard limit. @return the soft limit now in force.
uint64_t raiseFileLimit();

}  // namespace wslb::loadgen
