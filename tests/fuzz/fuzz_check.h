#pragma once
// Invariant checks for the fuzz targets: a violated invariant prints what failed and aborts, which
// libFuzzer reports as a crash and saves the input.

#include <cstdio>
#include <cstdlib>

#define WSLB_FUZZ_CHECK(cond)                                                             \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (false)
