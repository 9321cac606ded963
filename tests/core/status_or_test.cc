#include "pyfresh/status_or.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

namespace pyfresh {
namespace {

StatusOr<std::string> Greet(bool fail) {
  if (fail) return Status::Error("no greeting");
  return std::string("hello");
}

TEST(StatusOr, HoldsTheValue) {
  StatusOr<std::string> greeting = Greet(false);
  ASSERT_TRUE(greeting.ok());
  EXPECT_TRUE(greeting.status().ok());
  EXPECT_EQ(*greeting, "hello");
  EXPECT_EQ(greeting->size(), 5u);
  EXPECT_EQ(std::move(greeting).value(), "hello");
}

TEST(StatusOr, HoldsTheError) {
  StatusOr<std::string> greeting = Greet(true);
  ASSERT_FALSE(greeting.ok());
  EXPECT_EQ(greeting.status().message(), "no greeting");
}

TEST(StatusOr, AnOkStatusWithoutAValueIsAnError) {
  StatusOr<int> nothing = Status::Ok();
  EXPECT_FALSE(nothing.ok());
  EXPECT_NE(nothing.status().message().find("internal error"), std::string::npos);
}

TEST(StatusOr, MovesMoveOnlyValues) {
  StatusOr<std::unique_ptr<int>> boxed = std::make_unique<int>(7);
  ASSERT_TRUE(boxed.ok());
  std::unique_ptr<int> taken = std::move(boxed).value();
  EXPECT_EQ(*taken, 7);
}

}  // namespace
}  // namespace pyfresh
