#include "tls/context_data.h"

namespace wslb::tls {
namespace {

void freeContextData(void* /*parent*/, void* ptr, CRYPTO_EX_DATA* /*ad*/, int /*index*/,
                     long /*argl*/, void* /*argp*/) {
  delete static_cast<ContextData*>(ptr);
}

int contextDataIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, freeContextData);
  return index;
}

}  // namespace

void attachContextData(SSL_CTX* ctx, std::unique_ptr<ContextData> data) {
  if (SSL_CTX_set_ex_data(ctx, contextDataIndex(), data.get()) == 1) (void)data.release();
}

const ContextData* contextData(const SSL_CTX* ctx) {
  return static_cast<const ContextData*>(SSL_CTX_get_ex_data(ctx, contextDataIndex()));
}

}  // namespace wslb::tls
