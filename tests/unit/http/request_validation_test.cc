#include "wslb/http/request_validation.h"

#include <gtest/gtest.h>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>

namespace wslb::http {
namespace {

namespace bhttp = boost::beast::http;

// Parses a request head the way the session does; fails the test if Beast refuses it.
RequestHeader parse(const std::string& head) {
  bhttp::request_parser<bhttp::string_body> parser;
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(head), ec);
  EXPECT_TRUE(!ec || ec == bhttp::error::need_more) << ec.message() << " for " << head;
  EXPECT_TRUE(parser.is_header_done()) << head;
  return parser.release().base();
}

unsigned statusOf(const std::string& fields, std::string_view start_line = "GET / HTTP/1.1",
                  size_t max_headers = 100) {
  std::string head(start_line);
  head += "\r\n";
  head += fields;
  head += "\r\n";
  return validateRequestHead(parse(head), max_headers).status;
}

TEST(ScanRequestHead, AcceptsAWellFormedHead) {
  EXPECT_FALSE(scanRequestHead("GET / HTTP/1.1\r\nHost: a\r\nX: b\tc\r\n\r\n"));
}

TEST(ScanRequestHead, RejectsObsFold) {
  EXPECT_EQ(scanRequestHead("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n").status, 400u);
  EXPECT_EQ(scanRequestHead("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n").status, 400u);
}

TEST(ScanRequestHead, RejectsBareCrAndLf) {
  EXPECT_EQ(scanRequestHead("GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n").status, 400u);
  EXPECT_EQ(scanRequestHead("GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n").status, 400u);
  EXPECT_EQ(scanRequestHead("\nGET / HTTP/1.1\r\n\r\n").status, 400u);
  EXPECT_EQ(scanRequestHead("GET / HTTP/1.1\r\nHost: a\r\n\r").status, 400u);
}

TEST(ScanRequestHead, RejectsNul) {
  EXPECT_EQ(scanRequestHead(std::string_view("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 27)).status,
            400u);
}

TEST(ValidateRequestHead, AcceptsOrdinaryRequests) {
  EXPECT_EQ(statusOf("Host: a\r\n"), 0u);
  EXPECT_EQ(statusOf("Host: a:8080\r\nContent-Length: 3\r\n", "POST /x?y=1 HTTP/1.1"), 0u);
  EXPECT_EQ(statusOf("Host: a\r\nTransfer-Encoding: chunked\r\n", "POST / HTTP/1.1"), 0u);
  EXPECT_EQ(statusOf("Host: a\r\nTransfer-Encoding:  Chunked \r\n", "POST / HTTP/1.1"), 0u);
  EXPECT_EQ(statusOf("", "GET / HTTP/1.0"), 0u);  // HTTP/1.0 needs no Host
  EXPECT_EQ(statusOf("Host: [::1]:80\r\n"), 0u);
}

TEST(ValidateRequestHead, HeaderCountLimit) {
  std::string fields = "Host: a\r\n";
  for (int i = 0; i < 4; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(statusOf(fields, "GET / HTTP/1.1", 5), 0u);
  EXPECT_EQ(statusOf(fields, "GET / HTTP/1.1", 4), 431u);
}

TEST(ValidateRequestHead, ContentLength) {
  // Equal duplicates are refused too: a single value is the only unambiguous framing.
  EXPECT_EQ(statusOf("Host: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n", "POST / HTTP/1.1"),
            400u);
  EXPECT_EQ(statusOf("Host: a\r\nContent-Length: 1, 1\r\n", "POST / HTTP/1.1"), 400u);
}

TEST(ValidateRequestHead, TransferEncoding) {
  const std::string_view post = "POST / HTTP/1.1";
  EXPECT_EQ(statusOf("Host: a\r\nTransfer-Encoding: gzip\r\n", post), 400u);
  EXPECT_EQ(statusOf("Host: a\r\nTransfer-Encoding: gzip, chunked\r\n", post), 400u);
  EXPECT_EQ(statusOf("Host: a\r\nTransfer-Encoding: chunked, gzip\r\n", post), 400u);
  EXPECT_EQ(statusOf("Host: a\r\nTransfer-Encoding: chunked, chunked\r\n", post), 400u);
  EXPECT_EQ(statusOf("Host: a\r\nTransfer-Encoding: identity\r\n", post), 400u);
  EXPECT_EQ(statusOf("Host: a\r\nTransfer-Encoding: xchunked\r\n", post), 400u);
  EXPECT_EQ(statusOf("Host: a\r\nTransfer-Encoding: chunked\r\n", "POST / HTTP/1.0"), 400u);
}

TEST(ValidateRequestHead, Host) {
  EXPECT_EQ(statusOf(""), 400u);
  EXPECT_EQ(statusOf("Host: a\r\nHost: b\r\n"), 400u);
  EXPECT_EQ(statusOf("Host: a/b\r\n"), 400u);
  EXPECT_EQ(statusOf("Host: a b\r\n"), 400u);
  EXPECT_EQ(statusOf("Host: user@a\r\n"), 400u);
}

TEST(ValidateRequestHead, RequestTargetForms) {
  EXPECT_EQ(statusOf("Host: a\r\n", "OPTIONS * HTTP/1.1"), 0u);
  EXPECT_EQ(statusOf("Host: a\r\n", "GET * HTTP/1.1"), 400u);
  EXPECT_EQ(statusOf("Host: a:443\r\n", "CONNECT a:443 HTTP/1.1"), 405u);
  EXPECT_EQ(statusOf("Host: a\r\n", "GET a:443 HTTP/1.1"), 400u);
  EXPECT_EQ(statusOf("Host: a\r\n", "GET /x#frag HTTP/1.1"), 400u);
  EXPECT_EQ(statusOf("Host: a\r\n", "GET http://b/x HTTP/1.1"), 0u);
  EXPECT_EQ(statusOf("Host: a\r\n", "GET HTTPS://b:8443 HTTP/1.1"), 0u);
  EXPECT_EQ(statusOf("Host: a\r\n", "GET http:///x HTTP/1.1"), 400u);
  EXPECT_EQ(statusOf("Host: a\r\n", "GET http://u@b/x HTTP/1.1"), 400u);
  EXPECT_EQ(statusOf("Host: a\r\n", "GET ftp://b/x HTTP/1.1"), 400u);
}

TEST(UseAbsoluteFormAuthority, AuthorityWinsOverHost) {
  RequestHeader req = parse("GET http://b.example:81/x/y?q=1 HTTP/1.1\r\nHost: a\r\n\r\n");
  useAbsoluteFormAuthority(req);
  EXPECT_EQ(req.target(), "/x/y?q=1");
  EXPECT_EQ(req[bhttp::field::host], "b.example:81");

  RequestHeader bare = parse("GET http://b HTTP/1.1\r\nHost: a\r\n\r\n");
  useAbsoluteFormAuthority(bare);
  EXPECT_EQ(bare.target(), "/");
  EXPECT_EQ(bare[bhttp::field::host], "b");

  RequestHeader query = parse("GET http://b?q HTTP/1.1\r\nHost: a\r\n\r\n");
  useAbsoluteFormAuthority(query);
  EXPECT_EQ(query.target(), "/?q");

  RequestHeader origin = parse("GET /p HTTP/1.1\r\nHost: a\r\n\r\n");
  useAbsoluteFormAuthority(origin);
  EXPECT_EQ(origin.target(), "/p");
  EXPECT_EQ(origin[bhttp::field::host], "a");
}

}  // namespace
}  // namespace wslb::http
