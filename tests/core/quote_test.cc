#include "pyfresh/quote.h"

#include <string>

#include <gtest/gtest.h>

namespace pyfresh {
namespace {

TEST(QuoteForMessage, KeepsPrintableAsciiAsIs) {
  EXPECT_EQ(QuoteForMessage("mysite.wsgi:application"), "'mysite.wsgi:application'");
  EXPECT_EQ(QuoteForMessage(""), "''");
}

TEST(QuoteForMessage, EscapesControlAndNonAsciiBytesSoTheMessageStaysOneAsciiLine) {
  EXPECT_EQ(QuoteForMessage("a\nb\xc3\x7f"), "'a\\x0ab\\xc3\\x7f'");
  EXPECT_EQ(QuoteForMessage(std::string("nul\0here", 8)), "'nul\\x00here'");
}

TEST(QuoteForMessage, CutsLongValuesAtTheLimit) {
  const std::string exact(kMaxQuotedBytes, 'x');
  EXPECT_EQ(QuoteForMessage(exact), "'" + exact + "'");
  const std::string huge(200 * 1024, 'y');
  EXPECT_EQ(QuoteForMessage(huge), "'" + std::string(kMaxQuotedBytes, 'y') + "...'");
}

}  // namespace
}  // namespace pyfresh
