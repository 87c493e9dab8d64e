#include "wslb/tls/server_name_table.h"

#include <gtest/gtest.h>

namespace wslb::tls {
namespace {

TEST(ServerNameTable, ExactBeforeWildcardBeforeDefault) {
  ServerNameTable table;
  ASSERT_TRUE(table.add("api.example.com", 0));
  ASSERT_TRUE(table.add("*.example.com", 1));
  ASSERT_TRUE(table.add("*.com", 2));
  ASSERT_TRUE(table.setDefault(3));
  EXPECT_EQ(table.find("api.example.com"), 0u);
  EXPECT_EQ(table.find("API.Example.COM"), 0u);
  EXPECT_EQ(table.find("www.example.com"), 1u);
  EXPECT_EQ(table.find("a.b.example.com"), 1u);  // the longest suffix wins
  EXPECT_EQ(table.find("example.com"), 2u);      // "*.example.com" needs a label before it
  EXPECT_EQ(table.find("other.org"), 3u);
  EXPECT_EQ(table.find(""), 3u);
}

TEST(ServerNameTable, NoDefaultMeansNoMatch) {
  ServerNameTable table;
  ASSERT_TRUE(table.add("*.example.com", 0));
  EXPECT_EQ(table.find("example.com"), std::nullopt);
  EXPECT_EQ(table.find(""), std::nullopt);
  EXPECT_EQ(table.find(".example.com"), std::nullopt);
}

TEST(ServerNameTable, DuplicatesAreRefused) {
  ServerNameTable table;
  EXPECT_TRUE(table.add("a.example", 0));
  EXPECT_FALSE(table.add("a.example", 1));
  EXPECT_TRUE(table.add("*.example", 1));
  EXPECT_FALSE(table.add("*.example", 2));
  EXPECT_TRUE(table.setDefault(2));
  EXPECT_FALSE(table.setDefault(3));
}

}  // namespace
}  // namespace wslb::tls
