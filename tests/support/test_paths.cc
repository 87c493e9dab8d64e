#include "test_paths.h"

namespace wslb::test {

const char* wslbBinary() {
  return WSLB_BINARY;
}
const char* echoBinary() {
  return WSLB_ECHO_BINARY;
}
const char* sourceDir() {
  return WSLB_SOURCE_DIR;
}

}  // namespace wslb::test
