#pragma once
// Features read off mel_db (reference-spec 2.3). mel_db is [n_mels][frames], mel bin major.
#include <span>

namespace cfma::dsp {

// Per frame t: median over the n_mels bins (even count: mean of the two middle values,
// float32 as numpy.median). out.size() = frames.
void median_over_bins(std::span<const float> mel_db, int n_mels, int frames, std::span<float> out);
// The same with caller-provided scratch of at least n_mels floats (no allocation).
void median_over_bins(std::span<const float> mel_db, int n_mels, int frames, std::span<float> out,
                      std::span<float> scratch);
// Per frame t: mean over the bins, summed in bin order in float32 as numpy.mean(axis=0).
void mean_over_bins(std::span<const float> mel_db, int n_mels, int frames, std::span<float> out);

// "Time to -x dB": per mel bin, the first frame index whose value meets the condition, or
// `frames` when none does. The paper tests -80 dB by equality (it is the exact floor of
// power_to_db with top_db 80) and -75 / -70 dB by <= (reference quirk Q5).
enum class DbCondition { equal, at_most };
void time_to_db(std::span<const float> mel_db, int n_mels, int frames, float threshold,
                DbCondition condition, std::span<float> out);

}  // namespace cfma::dsp
