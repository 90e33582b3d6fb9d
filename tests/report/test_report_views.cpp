// The report's newer pieces on small fixtures: axis ticks, series styles, bar charts, heat-map
// marks and notes, the similarity views (layer-set names, arch x arch means, minibatch marks),
// the run summary from a study manifest, the concatenation table, and the reproduction table
// against the compiled-in paper values.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <regex>
#include <set>

#include "cfma/report/page.hpp"
#include "cfma/report/similarity_views.hpp"
#include "cfma/report/summary.hpp"
#include "cfma/report/svg.hpp"
#include "tests/test_paths.hpp"

namespace {

namespace report = cfma::report;

TEST(Svg, NiceTicksAreRoundStepsInsideTheRange) {
  const auto t = report::nice_ticks(0.0, 107.0);
  ASSERT_EQ(t.size(), 5u);  // 0 25 50 75 100
  EXPECT_EQ(t.front().first, 0.0);
  EXPECT_EQ(t.back().first, 100.0);
  EXPECT_EQ(t[1].second, "25");
  EXPECT_EQ(report::nice_ticks(0.0, 1.0)[1].second, "0.2");
  EXPECT_EQ(report::nice_ticks(0.0, 1.2)[1].second, "0.25");  // a 2.5 step gets its second decimal
  const auto small = report::nice_ticks(0.14, 0.96);
  ASSERT_FALSE(small.empty());
  EXPECT_GE(small.front().first, 0.14);
  EXPECT_LE(small.back().first, 0.96);
  EXPECT_EQ(small.front().second, "0.2");  // step 0.2: one decimal
  const auto one = report::nice_ticks(1.0, 2.0);
  EXPECT_EQ(one.front().second, "1.0");
  EXPECT_TRUE(report::nice_ticks(1.0, 0.0).empty());
  EXPECT_EQ(report::nice_ticks(3.0, 3.0).size(), 1u);
}

TEST(Svg, ThirtySeriesHaveThirtyStylesAndEpochTicksAreWhole) {
  std::set<std::pair<std::string, std::string>> styles;
  for (std::size_t k = 0; k < 30; ++k) styles.insert({report::series_style(k).colour, report::series_style(k).dash});
  EXPECT_EQ(styles.size(), 30u);
  report::LineChart c{"t", "epoch", "loss", {{"a", {1, 2}, {0.5, 0.4}, {}}}, {}, {}};
  const auto svg = report::line_chart_svg(c);
  EXPECT_NE(svg.find("class='x-tick'"), std::string::npos);
  EXPECT_EQ(svg.find(">1.2<"), std::string::npos) << "a fractional epoch tick";
  EXPECT_NE(svg.find("class='legend-line'"), std::string::npos);
  c.series[0].dashed = true;
  EXPECT_NE(report::line_chart_svg(c).find("stroke-dasharray='6,3' points="), std::string::npos);
}

TEST(Svg, BarChartTitlesEveryBarAndEscapesNames) {
  const report::BarChart c{"notes per <pitch>", "pitch", "notes", {"21", "22"}, {3, 14}};
  const auto svg = report::bar_chart_svg(c);
  EXPECT_NE(svg.find("notes per &lt;pitch&gt;"), std::string::npos);
  EXPECT_NE(svg.find("<title>22: 14</title>"), std::string::npos);
  EXPECT_EQ(std::count(svg.begin(), svg.end(), '\n') > 4, true);
  // The tallest bar reaches the top tick (15: the axis ends on a round number at or above 14).
  std::smatch top;
  ASSERT_TRUE(std::regex_search(svg, top, std::regex(">(\\d+)</text>\\n<rect class='bar'")));
}

TEST(Svg, HeatmapMarksOnlyCellsWithValuesAndAppendsNotes) {
  report::Heatmap h;
  h.title = "t";
  h.row_labels = {"a"};
  h.col_labels = {"x & y", "z"};
  h.values = {0.5, NAN};
  h.notes = {"95% CI [0.4, 0.6]", ""};
  h.marked = {true, true};
  h.mark_legend = "minibatch CKA";
  const auto svg = report::heatmap_svg(h);
  EXPECT_NE(svg.find("<title>a / x &amp; y: 0.5000 95% CI [0.4, 0.6] (minibatch CKA)</title>"), std::string::npos) << svg;
  EXPECT_EQ(std::count(svg.begin(), svg.end(), 'p') > 0, true);
  EXPECT_EQ(svg.find("class='mark'"), svg.rfind("class='mark'")) << "the NaN cell has no mark";
  EXPECT_NE(svg.find("class='mark-legend'"), std::string::npos);
}

TEST(SimilarityViews, LayerSetNamesAndArchByArchMeansSameSeedPairs) {
  const auto p = report::parse_layer_set("deformable-untrained-s17/conv3");
  EXPECT_TRUE(p.ok);
  EXPECT_EQ(p.arch, "deformable");
  EXPECT_EQ(p.task, "untrained");
  EXPECT_EQ(p.seed, "17");
  EXPECT_EQ(p.layer, "conv3");
  EXPECT_FALSE(report::parse_layer_set("hand/mean_power").ok);
  EXPECT_FALSE(report::parse_layer_set("noise").ok);

  report::SimilarityTable t;
  t.split = "train";
  t.measure = "linear_cka";
  t.sets = {"regular-family-s1/conv3", "regular-family-s2/conv3", "dilated-family-s1/conv3", "dilated-family-s2/conv3"};
  t.values[{"regular-family-s1/conv3", "dilated-family-s1/conv3"}] = 0.8;
  t.values[{"regular-family-s2/conv3", "dilated-family-s2/conv3"}] = 0.6;
  t.values[{"regular-family-s1/conv3", "dilated-family-s2/conv3"}] = 0.1;  // another seed: left out
  t.values[{"regular-family-s1/conv3", "regular-family-s1/conv3"}] = 1.0;
  t.values[{"regular-family-s2/conv3", "regular-family-s2/conv3"}] = 1.0;
  t.minibatch[{"dilated-family-s2/conv3", "regular-family-s2/conv3"}] = true;
  const auto h = report::arch_by_arch(t, "family", "conv3");
  EXPECT_EQ(h.row_labels, (std::vector<std::string>{"regular", "dilated"}));
  ASSERT_EQ(h.values.size(), 4u);
  EXPECT_DOUBLE_EQ(h.values[0], 1.0);
  EXPECT_DOUBLE_EQ(h.values[1], 0.7);  // (0.8 + 0.6) / 2, either order of the pair
  EXPECT_DOUBLE_EQ(h.values[2], 0.7);
  EXPECT_TRUE(std::isnan(h.values[3]));  // dilated x dilated: no value
  EXPECT_TRUE(h.marked[1]);              // one of its pairs is minibatch CKA
  EXPECT_FALSE(h.marked[0]);
  EXPECT_EQ(h.notes[1], "mean of 2 same-seed pairs");
}

TEST(SimilarityViews, ReadsIntervalsAndPValuesIntoCellNotes) {
  const auto dir = cfma::test::scratch_dir("report_similarity_notes");
  const cfma::WorkPaths paths{dir / "work"};
  cfma::test::write_text(paths.results() / "similarity.csv",
             "split,measure,set_a,set_b,value,ci_low,ci_high,p_value\n"
             "train,linear_cka,regular-family-s1/conv3,hand/mean_power,0.42,0.38,0.47,0.002\n"
             "train,linear_cka,regular-family-s1/conv3,noise,0.05,,,\n");
  const auto tables = report::read_similarity(paths);
  ASSERT_EQ(tables.size(), 1u);
  EXPECT_EQ(tables[0].notes.at({"regular-family-s1/conv3", "hand/mean_power"}), "95% CI [0.3800, 0.4700], p = 0.002");
  EXPECT_FALSE(tables[0].notes.count({"regular-family-s1/conv3", "noise"}));
  EXPECT_DOUBLE_EQ(tables[0].value("hand/mean_power", "regular-family-s1/conv3"), 0.42);
}

TEST(SimilarityViews, CalibratedCkaShowsItsNullAndNegativeValues) {
  const auto dir = cfma::test::scratch_dir("report_similarity_null");
  const cfma::WorkPaths paths{dir / "work"};
  cfma::test::write_text(paths.results() / "similarity.csv",
             "split,measure,set_a,set_b,value,ci_low,ci_high,p_value,null_sd\n"
             "test,linear_cka_calibrated,regular-family-s1/conv3,noise,-0.031,,,,0.012\n"
             "test,linear_cka_calibrated,regular-family-s1/conv3,hand/rms,0.35,,,,0.02\n");
  const auto tables = report::read_similarity(paths);
  ASSERT_EQ(tables.size(), 1u);
  EXPECT_EQ(tables[0].notes.at({"regular-family-s1/conv3", "noise"}), "permutation null sd 0.0120");
  const auto h = report::similarity_heatmap(tables[0], "t", {"regular-family-s1/conv3"}, {"noise", "hand/rms"}, true);
  EXPECT_DOUBLE_EQ(h.values[0], -0.031);
  EXPECT_DOUBLE_EQ(h.vmin, -0.1);  // the colour scale reaches below 0
  EXPECT_DOUBLE_EQ(h.vmax, 1.0);
}

TEST(ReportSummary, StageTimesSkipUpToDateInvocations) {
  const auto study = nlohmann::json::parse(R"({"stages": {
    "train": {"invocations": [
      {"wall_s": 120.5, "ranks": 4, "threads": 2, "hosts": {"n1": 2, "n2": 2}, "finished": "T1", "up_to_date": false,
       "slurm_job_id": "77", "slurm_attempt": 2},
      {"wall_s": 0.1, "ranks": 2, "threads": 1, "hosts": {"n1": 2}, "finished": "T2", "up_to_date": true}]},
    "preprocess": {"invocations": [{"wall_s": 3.0, "ranks": 2, "threads": 1, "hosts": {"n1": 2}, "finished": "T0"}]}}})");
  const auto times = report::stage_times(study);
  ASSERT_EQ(times.size(), 2u);
  EXPECT_EQ(times[0].stage, "preprocess");  // pipeline order
  EXPECT_EQ(times[1].stage, "train");
  EXPECT_DOUBLE_EQ(times[1].wall_s, 120.5);
  EXPECT_EQ(times[1].ranks, 4);
  EXPECT_EQ(times[1].hosts, "n1 (2), n2 (2)");
  EXPECT_EQ(times[1].slurm_job, "77, attempt 2");
}

TEST(ReportSummary, ReproductionTableSetsThisRunBesideThePaper) {
  const auto ref = report::paper_results();
  EXPECT_GE(ref.rows.size(), 150u);
  EXPECT_GE(ref.column("paper_mean"), 0);
  const auto dir = cfma::test::scratch_dir("report_reproduction");
  const cfma::WorkPaths paths{dir / "work"};
  // Two seeds of the family-trained regular net (final test accuracy 97.0 and 98.0 %), and the
  // deformable family probe's conv3 test accuracy.
  for (const auto& [seed, test] : {std::pair{"1", "97.0"}, std::pair{"10", "98.0"}})
    cfma::test::write_text(paths.run_dir(std::string("regular-family-s") + seed) / "history.csv",
               std::string("epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n1,0.1,99.0,0.2,") + test + ",1\n");
  // A pitch run (its history has rmse columns) read after them must not hide their accuracy.
  cfma::test::write_text(paths.run_dir("regular-pitch-s1") / "history.csv",
             "epoch,train_loss,train_rmse,test_loss,test_rmse,seconds\n1,0.1,3.0,0.2,4.0,1\n");
  cfma::test::write_text(paths.results() / "transfer.csv",
             "arch,model_task,layer,target,split,metric,mean,sd,ci95_low,ci95_high,seeds\n"
             "deformable,family,conv3,family,test,accuracy,0.9777,0.001,,,5\n");
  const auto table = report::reproduction_table(paths);
  int found = 0;
  for (const auto& row : table.rows) {
    if (row[0] == "training" && row[1] == "regular (family)" && row[3] == "family test accuracy_pct") {
      EXPECT_EQ(row[4], "97.78 \u00b1 0.048");  // 8.1: Regular, mean test 97.775 (sd 2 digits)
      EXPECT_EQ(row[5], "97.5");
      EXPECT_EQ(row[6], "-0.275");
      ++found;
    }
    if (row[0] == "probe" && row[1] == "deformable (family)" && row[2] == "conv3" && row[3] == "family test accuracy_pct") {
      EXPECT_EQ(row[5], "97.77");  // 0.9777 as %
      ++found;
    }
  }
  EXPECT_EQ(found, 2);
  report::FigureWriter figures{dir / "page"};
  std::filesystem::create_directories(figures.dir);
  EXPECT_EQ(report::reproduction_section(paths, "demo", figures), "");  // not the paper's protocol
  const auto section = report::reproduction_section(paths, "paper", figures);
  EXPECT_NE(section.find("Reproduction at a glance"), std::string::npos);
  EXPECT_NE(section.find("<td>regular (family)</td><td>97.78 \u00b1 0.048 / 97.5 (-0.275)</td>"), std::string::npos) << section;
  EXPECT_TRUE(std::filesystem::exists(figures.dir / "reproduction.csv"));
}

TEST(ReportProbes, ConcatTableIsModelByAddedSetMeanOverSeeds) {
  const auto dir = cfma::test::scratch_dir("report_concat");
  const cfma::WorkPaths paths{dir / "work"};
  cfma::test::write_text(paths.results() / "concat.csv",
             "run,arch,task,seed,layer,added_set,added_rank,target,split,metric,value\n"
             "regular-family-s1,regular,family,1,conv3,hand/mean_power,1,family,test,accuracy,0.9\n"
             "regular-family-s2,regular,family,2,conv3,hand/mean_power,1,family,test,accuracy,0.8\n"
             "regular-family-s1,regular,family,1,conv3,hand/mean_power,1,family,train,accuracy,1.0\n"
             "regular-family-s1,regular,family,1,conv3,group/top_combined,2,family,test,accuracy,0.95\n");
  const auto t = report::concat_table(paths);
  EXPECT_EQ(t.header, (std::vector<std::string>{"model (training task)", "layer", "+ hand/mean_power", "+ group/top_combined"}));
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0][2], "0.85 \u00b1 0.05");
  EXPECT_EQ(t.rows[0][3], "0.95");
}

}  // namespace
