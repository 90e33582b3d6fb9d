#pragma once
// The similarity section: heat maps of results/similarity.csv in the paper's views, per split
// and measure, cells computed by minibatch CKA marked (similarity.h5's /<split>/path) and each
// cell's bootstrap interval and p-value in its <title> when the job computed them.
//   all sets       network layers x every set (layer x layer within and across architectures,
//                  and x the hand-crafted sets), when it fits report.max_heatmap_cells
//   hand-crafted   network layers x the hand-crafted sets, noise and input
//   top-5          network layers x the paper's top-5 hand-crafted sets (spec 2.5)
// and for the first CKA measure:
//   trained x untrained   each trained run's layers x the untrained twins' layers
//   init x init           per architecture and training task with 2+ seeds, at its deepest
//                         conv layer (conv3 when present): seed x seed (the paper's S1)
//   arch x arch           per training task, at conv3: the mean over seeds of the same-seed
//                         pairs (all pairs when no seed is shared) (the paper's S2)
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cfma/core/paths.hpp"
#include "cfma/report/csv.hpp"
#include "cfma/report/html.hpp"
#include "cfma/report/report_config.hpp"
#include "cfma/report/svg.hpp"

namespace cfma::report {

// The paper's annotated view (spec 2.5): its "top-5" hand-crafted sets (Mean Power, Time to
// -70 dB, Mean Wavelet-25, Wavelets Combined-25, Top Combined) and the Random baseline.
const std::vector<std::string>& paper_top5_sets();

// One split and measure of similarity.csv.
struct SimilarityTable {
  std::string split, measure;
  std::vector<std::string> sets;                                  // in order of appearance
  std::map<std::pair<std::string, std::string>, double> values;  // (a, b) as written
  std::map<std::pair<std::string, std::string>, std::string> notes;  // "[lo, hi] p = ..."
  std::map<std::pair<std::string, std::string>, bool> minibatch;  // from similarity.h5
  double value(const std::string& a, const std::string& b) const;  // either order, NaN if absent
  bool is_minibatch(const std::string& a, const std::string& b) const;
};
// Throws ReportError when similarity.csv lacks a column.
std::vector<SimilarityTable> read_similarity(const WorkPaths& paths);

// A run's set name "<arch>-<task>-s<seed>/<layer>" split up; ok = false for other sets.
struct LayerSet {
  bool ok = false;
  std::string arch, task, seed, layer;
};
LayerSet parse_layer_set(const std::string& set);

// Heat maps of one view; `rows` x `cols` cells from `t` (with marks and notes).
Heatmap similarity_heatmap(const SimilarityTable& t, const std::string& title, const std::vector<std::string>& rows,
                           const std::vector<std::string>& cols, bool annotate);
// The arch x arch view of one task at one layer: rows = cols = architectures.
Heatmap arch_by_arch(const SimilarityTable& t, const std::string& task, const std::string& layer);

std::string similarity_section(const WorkPaths& paths, const ReportConfig& config, FigureWriter& figures);

}  // namespace cfma::report
