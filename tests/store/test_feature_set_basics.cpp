// Serial basics of the store: schema paths, FeatureSet column counts, and the noise baseline's
// values against an independent Python re-implementation of splitmix64 + Box-Muller, printed by:
//   /usr/bin/python3 -c "import math
//   M=(1<<64)-1
//   def mix(x):
//       x=(x+0x9e3779b97f4a7c15)&M; x=((x^(x>>30))*0xbf58476d1ce4e5b9)&M
//       x=((x^(x>>27))*0x94d049bb133111eb)&M; return x^(x>>31)
//   def nv(s,r,c):
//       h=mix(mix(mix(s)^r)^((c<<1)&M)); u1=((h>>11)+0.5)/2**53; u2=((mix(h)>>11)+0.5)/2**53
//       return math.sqrt(-2*math.log(u1))*math.cos(2*math.pi*u2)
//   [print(repr(nv(*a))) for a in [(0,0,0),(5,123,7),(17,289204,767)]]"
#include <gtest/gtest.h>

#include "cfma/store/feature_sets.hpp"
#include "cfma/store/schema.hpp"

namespace {

namespace schema = cfma::store::schema;

TEST(Schema, Paths) {
  EXPECT_EQ(schema::hand("time_to_70db"), "/hand/time_to_70db");
  EXPECT_EQ(schema::label("family"), "/labels/family");
  EXPECT_EQ(schema::layer("conv1"), "/layers/conv1");
  EXPECT_STREQ(schema::mel_db, "/mel_db");
  EXPECT_STREQ(schema::split_train, "/split/train");
  EXPECT_STREQ(schema::split_test, "/split/test");
}

TEST(FeatureSet, Columns) {
  cfma::store::FeatureSet s;
  s.blocks = {{"f.h5", "/hand/mean_power", 0, 128}, {"f.h5", "/hand/wavelet_stats_25", 0, 768}};
  EXPECT_EQ(s.columns(), 896);
  EXPECT_FALSE(s.is_noise());
  cfma::store::FeatureSet noise;
  noise.noise_columns = 128;
  EXPECT_TRUE(noise.is_noise());
  EXPECT_EQ(noise.columns(), 128);
}

TEST(NoiseValue, MatchesIndependentImplementation) {
  // The independent implementation's doubles, rounded to float32 as cfma stores noise (exactly).
  const auto f32 = [](double v) { return static_cast<double>(static_cast<float>(v)); };
  EXPECT_EQ(cfma::store::noise_value(0, 0, 0), f32(1.3638622003620633));
  EXPECT_EQ(cfma::store::noise_value(5, 123, 7), f32(-0.9604460152366421));
  EXPECT_EQ(cfma::store::noise_value(17, 289204, 767), f32(1.8327550773706285));
}

}  // namespace
