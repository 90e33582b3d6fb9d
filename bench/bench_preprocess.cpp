// Preprocess compute speed under MPI (issue 2): each rank reads its contiguous block of notes
// (cfma::data::read_note_audio, libsndfile) and computes mel_db + every hand-crafted and wavelet
// feature (cfma::dsp::FeatureExtractor), as `cfma preprocess` does, without the HDF5 writes.
//
//   mpirun -np P bench_preprocess FOLDER [PASSES]
// FOLDER: NSynth jsonwav layout (examples.json + audio/*.wav), e.g. from `cfma render --out`.
// Every note of examples.json is used (no selection). Rank 0 prints, for the slowest rank:
//   ms per example per core = wall time x P / (examples x passes)   (goal <= 2.6)
// and the thread CPU time per example, which a shared machine does not inflate.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include <boost/mpi/collectives.hpp>
#include <boost/mpi/operations.hpp>

#include "cfma/core/error.hpp"
#include "cfma/data/nsynth.hpp"
#include "cfma/dsp/feature_extractor.hpp"
#include "cfma/par/world.hpp"

namespace {

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

}  // namespace

int main(int argc, char** argv) {
  cfma::par::World world(argc, argv);
  auto& comm = cfma::par::World::comm();
  const bool root = comm.rank() == 0;
  if (argc < 2) {
    if (root) std::fprintf(stderr, "usage: bench_preprocess FOLDER [PASSES]\n");
    return 2;
  }
  const int passes = argc > 2 ? std::max(1, std::atoi(argv[2])) : 1;
  try {
    const auto scan = cfma::data::scan_dataset(argv[1]);
    const auto n = static_cast<std::int64_t>(scan.examples.size());
    if (n == 0) throw cfma::DataError(std::string(argv[1]) + ": no notes");
    const cfma::data::DataConfig data_config;
    const cfma::dsp::FeaturesConfig features_config;
    cfma::dsp::FeatureExtractor extractor(features_config);
    cfma::dsp::NoteFeatures note;
    std::vector<float> samples(static_cast<std::size_t>(data_config.n_samples));
    const auto block = cfma::par::block_of(n, comm.rank(), comm.size());

    // Warm-up on one note this rank owns: buffers sized, plan and caches warm.
    cfma::data::read_note_audio(scan.examples[static_cast<std::size_t>(std::min(block.begin, n - 1))],
                                data_config, samples);
    extractor.compute(samples, note);
    comm.barrier();

    using clock = std::chrono::steady_clock;
    double read_ms = 0, checksum = 0;
    const double cpu0 = thread_cpu_ms();
    const auto t0 = clock::now();
    for (int pass = 0; pass < passes; ++pass)
      for (auto i = block.begin; i < block.end; ++i) {
        const auto r0 = clock::now();
        cfma::data::read_note_audio(scan.examples[static_cast<std::size_t>(i)], data_config, samples);
        read_ms += std::chrono::duration<double, std::milli>(clock::now() - r0).count();
        extractor.compute(samples, note);
        checksum += note.mel_db[note.mel_db.size() / 2] + note.hand.back()[0];
      }
    const double wall_ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
    const double cpu_ms = thread_cpu_ms() - cpu0;

    double slowest_ms = 0, total_cpu_ms = 0, total_read_ms = 0, total_checksum = 0;
    boost::mpi::reduce(comm, wall_ms, slowest_ms, boost::mpi::maximum<double>(), 0);
    boost::mpi::reduce(comm, cpu_ms, total_cpu_ms, std::plus<double>(), 0);
    boost::mpi::reduce(comm, read_ms, total_read_ms, std::plus<double>(), 0);
    boost::mpi::reduce(comm, checksum, total_checksum, std::plus<double>(), 0);
    if (root) {
      const double done = static_cast<double>(n) * passes;
      const double per_core = slowest_ms * comm.size() / done;
      std::printf("bench_preprocess: %lld notes x %d passes on %d ranks: wall %.3f s (slowest rank), "
                  "%.1f examples/s\n",
                  static_cast<long long>(n), passes, comm.size(), slowest_ms / 1e3, done / (slowest_ms / 1e3));
      std::printf("ranks=%d wall_s=%.4f ms_per_example_per_core=%.3f cpu_ms_per_example=%.3f "
                  "read_ms_per_example=%.3f checksum=%.6g\n",
                  comm.size(), slowest_ms / 1e3, per_core, total_cpu_ms / done, total_read_ms / done,
                  total_checksum);
      std::printf("goal: <= 2.6 ms per example per core: %s\n", per_core <= 2.6 ? "met" : "NOT met");
    }
  } catch (const cfma::Error& e) {
    std::fprintf(stderr, "bench_preprocess (rank %d): %s\n", comm.rank(), e.what());
    return 1;
  }
  return 0;
}
