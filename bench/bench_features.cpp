// Per-note feature computation speed: mel_db + every hand-crafted feature (spectral, mel_db
// statistics, Ricker wavelets), one thread, as the preprocess job runs it per rank.
//
//   bench_features [FOLDER [PASSES]]
// FOLDER holds NSynth's jsonwav layout (audio/*.wav, 16-bit PCM, 16 kHz mono, 4 s); default: the 24
// reference notes in $CFMA_SHARED_DIR/reference/nsynth-mini (CFMA_SHARED_DIR defaults to
// /work/shared). Prints ms per example (best and mean pass) against the 2.6 ms goal.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "cfma/dsp/feature_extractor.hpp"
#include "tests/dsp/wav_pcm16.hpp"

int main(int argc, char** argv) {
  const char* shared = std::getenv("CFMA_SHARED_DIR");
  const std::filesystem::path folder =
      argc > 1 ? std::filesystem::path(argv[1])
               : std::filesystem::path(shared ? shared : "/work/shared") / "reference" / "nsynth-mini";
  const int passes = argc > 2 ? std::max(1, std::atoi(argv[2])) : 20;

  const cfma::dsp::FeaturesConfig config;
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(folder / "audio"))
    for (const auto& e : std::filesystem::directory_iterator(folder / "audio"))
      if (e.path().extension() == ".wav") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::vector<float>> notes;
  for (const auto& f : files) {
    // As the preprocess job: exactly n_samples per note (NSynth notes are 4 s), zero-filled.
    auto s = cfma::test::read_wav_pcm16(f);
    s.resize(static_cast<std::size_t>(config.n_samples), 0.0f);
    notes.push_back(std::move(s));
  }
  if (notes.empty()) {
    std::fprintf(stderr, "bench_features: no readable audio/*.wav under %s\n", folder.c_str());
    return 1;
  }

  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  cfma::dsp::FeatureExtractor extractor(config);
  const double setup_ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
  cfma::dsp::NoteFeatures out;
  extractor.compute(notes[0], out);  // warm-up: buffers sized, caches warm

  // CPU time of this thread as well as wall time: on a shared machine the wall clock also
  // counts time the thread spent waiting for a core.
  const auto cpu_ms = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
  };
  double best = 1e300, total = 0, best_cpu = 1e300, total_cpu = 0;
  double checksum = 0;
  const auto per_note = static_cast<double>(notes.size());
  for (int p = 0; p < passes; ++p) {
    const auto start = clock::now();
    const double cpu_start = cpu_ms();
    for (const auto& note : notes) {
      extractor.compute(note, out);
      checksum += out.mel_db[0] + out.hand.back()[0];
    }
    const double cpu = (cpu_ms() - cpu_start) / per_note;
    const double ms = std::chrono::duration<double, std::milli>(clock::now() - start).count() / per_note;
    best = std::min(best, ms);
    total += ms;
    best_cpu = std::min(best_cpu, cpu);
    total_cpu += cpu;
  }
  std::printf("bench_features: %zu notes x %d passes, n_fft %d hop %d n_mels %d, %zu hand features\n",
              notes.size(), passes, config.n_fft, config.hop_length, config.n_mels, extractor.specs().size());
  std::printf("extractor setup: %.2f ms (once per thread)\n", setup_ms);
  std::printf("wall ms per example: best pass %.3f, mean %.3f\n", best, total / passes);
  std::printf("cpu  ms per example: best pass %.3f, mean %.3f (goal <= 2.6 per core; checksum %.6g)\n",
              best_cpu, total_cpu / passes, checksum);
  return 0;
}
