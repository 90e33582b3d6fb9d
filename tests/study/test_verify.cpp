// The tolerance of `cfma verify` for CSV and JSON numbers (study/verify.hpp):
// |a - b| <= 1e-5 * max(1, |a|, |b|): absolute 1e-5 up to magnitude 1, relative beyond.
#include <gtest/gtest.h>

#include <cmath>

#include "cfma/study/verify.hpp"

namespace cfma::study {
namespace {

TEST(VerifyTolerance, AbsoluteBelowOneRelativeAbove) {
  EXPECT_TRUE(within_tolerance(0.5, 0.5));
  EXPECT_TRUE(within_tolerance(0.5, 0.5 + 0.9e-5));
  EXPECT_FALSE(within_tolerance(0.5, 0.5 + 1.1e-5));
  EXPECT_TRUE(within_tolerance(1e-9, -1e-9));  // near zero: absolute
  EXPECT_TRUE(within_tolerance(1000.0, 1000.009));
  EXPECT_FALSE(within_tolerance(1000.0, 1000.011));
  EXPECT_TRUE(within_tolerance(NAN, NAN));
  EXPECT_FALSE(within_tolerance(NAN, 1.0));
  EXPECT_FALSE(within_tolerance(INFINITY, 1.0));
  EXPECT_TRUE(within_tolerance(INFINITY, INFINITY));
}

TEST(VerifyResult, OkUnlessDifferentOrMissing) {
  VerifyResult r;
  r.rows = {{"train", "a", Verdict::bit_equal, ""}, {"probe", "b", Verdict::within_tolerance, ""},
            {"report", "c", Verdict::not_compared, ""}};
  EXPECT_TRUE(r.ok());
  r.rows.push_back({"extract", "d", Verdict::missing, "only in study A"});
  EXPECT_FALSE(r.ok());
  const auto text = format_result(r);
  EXPECT_NE(text.find("MISSING"), std::string::npos) << text;
  EXPECT_NE(text.find("1 outputs differ or are missing"), std::string::npos) << text;
}

}  // namespace
}  // namespace cfma::study
