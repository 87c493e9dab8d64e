#include "tls/socket_bio.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstdint>

namespace wslb::tls {
namespace {

int fdOf(BIO* bio) {
  return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(bio)));
}

bool isRetriable(int error) {
  return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}

int socketWrite(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::send(fdOf(bio), data, static_cast<size_t>(size), MSG_NOSIGNAL);
  if (n < 0 && isRetriable(errno)) BIO_set_retry_write(bio);
  return static_cast<int>(n);
}

int socketRead(BIO* bio, char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::recv(fdOf(bio), data, static_cast<size_t>(size), 0);
  if (n < 0 && isRetriable(errno)) BIO_set_retry_read(bio);
  return static_cast<int>(n);
}

long socketCtrl(BIO* bio, int command, long /*number*/, void* pointer) {
  switch (command) {
    case BIO_CTRL_FLUSH:
      return 1;  // nothing is buffered here
    case BIO_C_GET_FD:
      if (pointer != nullptr) *static_cast<int*>(pointer) = fdOf(bio);
      return fdOf(bio);
    default:
      return 0;
  }
}

int socketCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

int socketDestroy(BIO* /*bio*/) {
  return 1;
}

const BIO_METHOD* socketMethod() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                 "wslb socket");
    if (m == nullptr) return m;
    BIO_meth_set_write(m, socketWrite);
    BIO_meth_set_read(m, socketRead);
    BIO_meth_set_ctrl(m, socketCtrl);
    BIO_meth_set_create(m, socketCreate);
    BIO_meth_set_destroy(m, socketDestroy);
    return m;
  }();
  return method;
}

}  // namespace

BIO* newSocketBio(int fd) {
  const BIO_METHOD* method = socketMethod();
  if (method == nullptr) return nullptr;
  BIO* bio = BIO_new(method);
  if (bio != nullptr) BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  return bio;
}

}  // namespace wslb::tls
