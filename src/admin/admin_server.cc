#include "wslb/admin/admin_server.h"

#include <functional>
#include <mutex>

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace wslb::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> serveConnection(
    tcp::socket socket, const std::function<std::shared_ptr<const AdminContext>()>& current) {
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024);
    auto [ec, n] = co_await bhttp::async_read(socket, buffer, parser, kAsTuple);
    if (ec) co_return;
    const auto& req = parser.get();
    // Each request sees the context current when it arrives; a reload may replace it meanwhile.
    auto res = handleAdminRequest(*current(), req);
    res.keep_alive(req.keep_alive());
    auto [wec, wn] = co_await bhttp::async_write(socket, res, kAsTuple);
    if (wec || !req.keep_alive()) {
      boost::system::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
  }
}
}  // namespace

struct AdminServer::State {
  State(asio::io_context& io, const tcp::endpoint& ep, AdminContext ctx)
      : acceptor(io), context(std::make_shared<const AdminContext>(std::move(ctx))) {
    acceptor.open(ep.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen();
  }
  std::shared_ptr<const AdminContext> current() const {
    std::lock_guard lock(mutex);
    return context;
  }
  tcp::acceptor acceptor;
  mutable std::mutex mutex;  ///< guards context (admin thread vs a reload).
  std::shared_ptr<const AdminContext> context;
};

AdminServer::AdminServer(asio::io_context& io, const tcp::endpoint& endpoint, AdminContext context)
    : state_(std::make_shared<State>(io, endpoint, std::move(context))) {
  port_ = state_->acceptor.local_endpoint().port();
}

AdminServer::~AdminServer() = default;

void AdminServer::start() {
  asio::co_spawn(
      state_->acceptor.get_executor(),
      [state = state_]() -> asio::awaitable<void> {
        for (;;) {
          auto [ec, socket] = co_await state->acceptor.async_accept(kAsTuple);
          if (ec == asio::error::operation_aborted || !state->acceptor.is_open()) co_return;
          if (ec) continue;
          asio::co_spawn(
              state->acceptor.get_executor(),
              [state, s = std::move(socket)]() mutable -> asio::awaitable<void> {
                co_await serveConnection(std::move(s), [&state] { return state->current(); });
              },
              asio::detached);
        }
      },
      asio::detached);
}

void AdminServer::setContext(AdminContext context) {
  auto next = std::make_shared<const AdminContext>(std::move(context));
  std::lock_guard lock(state_->mutex);
  state_->context.swap(next);
  // The old context (and what it keeps alive) goes when the last request using it is done.
}

void AdminServer::stop() {
  asio::post(state_->acceptor.get_executor(), [state = state_] {
    boost::system::error_code ec;
    state->acceptor.close(ec);
  });
}

}  // namespace wslb::admin
