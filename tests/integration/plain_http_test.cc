// Requests without an upgrade are proxied as plain HTTP/1.1.

#include <gtest/gtest.h>

#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>

#include "test_support.h"

namespace wslb::test {
namespace {

TEST(PlainHttp, ContentLengthAndChunkedBodies) {
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  InProcessWslb lb(makeConfig(spec));

  auto r = rawRequest(lb.port(),
                      "POST /submit HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                      "Connection: close\r\n\r\nhello");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "POST /submit\nhello");
  EXPECT_EQ(r.headers["x-backend-id"], "pod-1");

  r = rawRequest(lb.port(),
                 "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                 "Connection: close\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "POST /c\nabcdefg");

  r = rawRequest(lb.port(), "GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.status, 200u);
  EXPECT_NE(r.body.find("\"id\":\"pod-1\""), std::string::npos);
  EXPECT_NE(lb.admin("/stats").find("cluster.backend.upstream_cx_active: 0\n"), std::string::npos);
}

TEST(PlainHttp, KeepAliveServesSeveralRequestsOnOneConnection) {
  namespace asio = boost::asio;
  namespace bhttp = boost::beast::http;
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  InProcessWslb lb(makeConfig(spec));
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), lb.port()});
  boost::beast::flat_buffer buffer;
  for (int i = 0; i < 3; ++i) {
    const std::string target = "/item/" + std::to_string(i);
    asio::write(s, asio::buffer("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    bhttp::response<bhttp::string_body> res;
    bhttp::read(s, buffer, res);
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res.body(), "GET " + target + "\n");
    EXPECT_TRUE(res.keep_alive());
  }
  const auto stats = lb.admin("/stats");
  EXPECT_NE(stats.find("http.ingress_ws.downstream_cx_total: 1\n"), std::string::npos) << stats;
  EXPECT_NE(stats.find("http.ingress_ws.downstream_rq_total: 3\n"), std::string::npos);
  EXPECT_NE(stats.find("cluster.backend.upstream_cx_total: 3\n"), std::string::npos);
}

TEST(PlainHttp, ForwardedHeadersAreAdded) {
  // A backend that answers with the request it received, to see what wslb forwarded.
  namespace asio = boost::asio;
  namespace bhttp = boost::beast::http;
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::string seen;
  std::thread backend([&] {
    asio::ip::tcp::socket s(io);
    acceptor.accept(s);
    boost::beast::flat_buffer b;
    bhttp::request<bhttp::string_body> req;
    bhttp::read(s, b, req);
    std::ostringstream os;
    os << req.base();
    seen = os.str();
    for (char& ch : seen) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
    res.body() = "ok";
    res.prepare_payload();
    bhttp::write(s, res);
  });
  ConfigSpec spec;
  spec.ports = {acceptor.local_endpoint().port()};
  InProcessWslb lb(makeConfig(spec));
  auto r = rawRequest(lb.port(),
                      "GET /h HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.9.9.9\r\n"
                      "Connection: close, X-Drop\r\nX-Drop: secret\r\n\r\n");
  backend.join();
  EXPECT_EQ(r.status, 200u);
  EXPECT_NE(seen.find("x-forwarded-for: 10.9.9.9, 127.0.0.1\r\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("x-forwarded-proto: http\r\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("x-request-id: "), std::string::npos) << seen;
  EXPECT_EQ(seen.find("x-drop"), std::string::npos) << seen;
}

}  // namespace
}  // namespace wslb::test
