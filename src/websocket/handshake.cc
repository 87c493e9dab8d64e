#include "wslb/websocket/handshake.h"

#include <openssl/evp.h>

#include <memory>

namespace wslb::websocket {
namespace {

constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr size_t kKeyLength = 24;  // base64 of 16 bytes: 22 characters and "=="

bool isOws(char c) noexcept {
  return c == ' ' || c == '\t';
}

bool isBase64Char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

char asciiLower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (asciiLower(a[i]) != asciiLower(b[i])) return false;
  }
  return true;
}

struct MdDeleter {
  void operator()(EVP_MD* md) const noexcept { EVP_MD_free(md); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};

// Fetched once: an explicit fetch avoids the provider lookup EVP_sha1() triggers on every use.
const EVP_MD* sha1() noexcept {
  static const std::unique_ptr<EVP_MD, MdDeleter> md(EVP_MD_fetch(nullptr, "SHA1", nullptr));
  return md.get();
}

// One digest context per thread, reused so a handshake does not allocate one.
EVP_MD_CTX* threadDigestContext() noexcept {
  thread_local const std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  return ctx.get();
}

}  // namespace

std::string_view trimOws(std::string_view value) noexcept {
  while (!value.empty() && isOws(value.front())) value.remove_prefix(1);
  while (!value.empty() && isOws(value.back())) value.remove_suffix(1);
  return value;
}

bool isValidSecWebSocketKey(std::string_view value) noexcept {
  const std::string_view key = trimOws(value);
  if (key.size() != kKeyLength || key[22] != '=' || key[23] != '=') return false;
  for (size_t i = 0; i < 22; ++i) {
    if (!isBase64Char(key[i])) return false;
  }
  return true;
}

bool isSupportedSecWebSocketVersion(std::string_view value) noexcept {
  return trimOws(value) == "13";
}

std::string computeSecWebSocketAccept(std::string_view key) {
  const std::string_view trimmed = trimOws(key);
  const EVP_MD* md = sha1();
  EVP_MD_CTX* ctx = threadDigestContext();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (md == nullptr || ctx == nullptr || EVP_DigestInit_ex2(ctx, md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx, trimmed.data(), trimmed.size()) != 1 ||
      EVP_DigestUpdate(ctx, kAcceptGuid.data(), kAcceptGuid.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, digest, &digest_size) != 1 || digest_size != 20) {
    return {};
  }
  // EVP_EncodeBlock writes 4 * ceil(20 / 3) = 28 characters and a terminating NUL.
  unsigned char encoded[kSecWebSocketAcceptSize + 1];
  const int encoded_size = EVP_EncodeBlock(encoded, digest, static_cast<int>(digest_size));
  if (encoded_size != static_cast<int>(kSecWebSocketAcceptSize)) return {};
  return std::string(reinterpret_cast<const char*>(encoded), kSecWebSocketAcceptSize);
}

bool headerHasToken(std::string_view field_value, std::string_view token) noexcept {
  if (token.empty()) return false;
  while (true) {
    const size_t comma = field_value.find(',');
    if (equalsIgnoreCase(trimOws(field_value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) return false;
    field_value.remove_prefix(comma + 1);
  }
}

}  // namespace wslb::websocket
