#pragma once
// Where this build put wslb's binaries, and where the sources are. They are defined in one
// compile unit (test_paths.cc): the paths differ per checkout, and on every test's command line
// they would keep ccache from recognising any test unit of a fresh clone by its command line.

namespace wslb::test {

/// The wslb binary of this build tree.
const char* wslbBinary();
/// The wslb-echo binary of this build tree.
const char* echoBinary();
/// The source tree (conf/, tests/ ...).
const char* sourceDir();

}  // namespace wslb::test
