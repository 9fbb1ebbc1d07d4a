#include "util/numbers.h"

#include <gtest/gtest.h>

namespace zkpilot {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

TEST(ParseDecimalInteger, TakesPlainDecimalDigitsOnly) {
  EXPECT_EQ(ParseDecimalInteger("3"), 3);
  EXPECT_EQ(ParseDecimalInteger("0"), 0);
  EXPECT_EQ(ParseDecimalInteger("-12"), -12);
  EXPECT_EQ(ParseDecimalInteger("9223372036854775807"), INT64_MAX);
  for (const char* bad : {"", "-", "0x3", "0o7", "3.0", " 3", "3 ", "+3", "1e2", "03", "-03", "3a", "9223372036854775808",
                          "٣"})
    EXPECT_EQ(ParseDecimalInteger(bad), std::nullopt) << bad;
}

TEST(ParseWholeNumber, SaysTheRange) {
  EXPECT_EQ(*ParseWholeNumber("5", 1, 255), 5);
  EXPECT_EQ(ParseWholeNumber("0", 1, 255).status().message(), "must be between 1 and 255, got 0");
  EXPECT_EQ(ParseWholeNumber("0x3", 1, 255).status().message(),
            "expected integer (decimal digits, like 3), got \"0x3\"");
  EXPECT_EQ(ParseWholeNumber("0x3", 1, 255).status().code(), ErrorCode::kInvalidInput);
}

TEST(ParseDuration, TakesSecondsOrAUnitWithinTheRange) {
  EXPECT_EQ(*ParseDuration("90", seconds(1), hours(24)), seconds(90));
  EXPECT_EQ(*ParseDuration("90s", seconds(1), hours(24)), seconds(90));
  EXPECT_EQ(*ParseDuration("10m", seconds(1), hours(24)), seconds(600));
  EXPECT_EQ(*ParseDuration("24h", seconds(1), hours(24)), hours(24));
  for (const char* out : {"0", "-5", "86401", "25h", "99999999999999999", "9223372036854775807h"})
    EXPECT_EQ(ParseDuration(out, seconds(1), hours(24)).status().message(),
              "must be between 1s and 24h, got " + std::string(out))
        << out;
  for (const char* bad : {"", "s", "1e2", "0x3", "3.5", " 3", "+3", "10 m", "1d"}) {
    auto r = ParseDuration(bad, seconds(1), hours(24));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("is not a duration"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("between 1s and 24h"), std::string::npos) << r.status().message();
  }
}

TEST(DurationText, UsesTheLargestWholeUnit) {
  EXPECT_EQ(DurationText(seconds(1)), "1s");
  EXPECT_EQ(DurationText(seconds(90)), "90s");
  EXPECT_EQ(DurationText(seconds(600)), "10m");
  EXPECT_EQ(DurationText(hours(24)), "24h");
}

}  // namespace
}  // namespace zkpilot
