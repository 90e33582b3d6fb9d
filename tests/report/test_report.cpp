// The report's pieces that need no pipeline outputs: [report] parsing, HTML tables, the figure
// code (colour scale, axis ranges, labels, escaping), the probe curves from small CSV fixtures,
// and the page of an empty workdir (every stage listed as missing, no figures).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>

#include "cfma/core/config.hpp"
#include "cfma/core/error.hpp"
#include "cfma/report/html.hpp"
#include "cfma/report/page.hpp"
#include "cfma/report/report_config.hpp"
#include "cfma/report/svg.hpp"
#include "tests/test_paths.hpp"

namespace {

using cfma::ConfigDoc;
namespace report = cfma::report;

TEST(ReportConfig, DefaultsAndRange) {
  const auto defaults = report::parse_report_config(ConfigDoc::from_string("", "empty.toml"));
  EXPECT_EQ(defaults.spectrograms, 8);  // one per family of the paper
  EXPECT_EQ(defaults.max_annotated_cells, 15);
  const auto set = report::parse_report_config(ConfigDoc::from_string("[report]\nspectrograms = 2\n", "r.toml"));
  EXPECT_EQ(set.spectrograms, 2);
  EXPECT_EQ(defaults.max_heatmap_cells, 40000);
  EXPECT_EQ(report::to_json(set),
            (nlohmann::json{{"spectrograms", 2}, {"max_annotated_cells", 15}, {"max_heatmap_cells", 40000}}));
  EXPECT_THROW(report::parse_report_config(ConfigDoc::from_string("[report]\nspectrograms = 65\n", "r.toml")),
               cfma::ConfigError);
}

TEST(TableHtml, FormatsFractionsEscapesTextAndCountsLeftOutRows) {
  const report::Table t{{"name", "value"}, {{"a<b", "0.123456"}, {"c", "3"}, {"d", "2.5"}}};
  EXPECT_EQ(report::table_html(t, 2),
            "<table><tr><th>name</th><th>value</th></tr>\n"
            "<tr><td>a&lt;b</td><td>0.1235</td></tr>\n"
            "<tr><td>c</td><td>3</td></tr>\n"
            "</table>\n<p>(1 more rows in the CSV)</p>\n");
}


std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + what.size())) ++n;
  return n;
}

TEST(Svg, ColourScaleEndsAreViridisAndClamped) {
  EXPECT_EQ(report::scale_colour(0.0), "#440154");
  EXPECT_EQ(report::scale_colour(1.0), "#fde725");
  EXPECT_EQ(report::scale_colour(0.5), "#21918c");
  EXPECT_EQ(report::scale_colour(-3.0), report::scale_colour(0.0));
  EXPECT_EQ(report::scale_colour(7.0), report::scale_colour(1.0));
  EXPECT_EQ(report::scale_colour(NAN), "#dddddd");
}

TEST(Svg, HeatmapHasAColourBarEscapedLabelsAndRoomForItsTitle) {
  report::Heatmap h;
  h.title = std::string(120, 'T');
  h.row_labels = {"a<b", "c&d"};
  h.col_labels = {"x\"y", "z"};
  h.values = {0.0, 1.0, 0.25, NAN};
  h.vmin = 0;
  h.vmax = 1;
  const auto svg = report::heatmap_svg(h);
  EXPECT_EQ(count(svg, "class='scale'"), 20u);
  EXPECT_EQ(count(svg, "class='scale-label'"), 3u);
  for (const char* label : {">0.00</text>", ">0.50</text>", ">1.00</text>"})
    EXPECT_NE(svg.find(label), std::string::npos) << label;
  // Cell colours follow the scale; the missing cell is grey and not annotated.
  EXPECT_NE(svg.find("fill='#440154'><title>a&lt;b / x&quot;y: 0.0000</title>"), std::string::npos);
  EXPECT_NE(svg.find("fill='#fde725'><title>a&lt;b / z: 1.0000</title>"), std::string::npos);
  EXPECT_NE(svg.find("fill='#dddddd'><title>c&amp;d / z: nan</title>"), std::string::npos);
  EXPECT_EQ(svg.find("a<b"), std::string::npos);
  // Wide enough for the 120-character title at 14 px.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(svg, m, std::regex("width='([0-9]+)'")));
  EXPECT_GE(std::stoi(m[1]), 10 + static_cast<int>(7.5 * 120));
}

TEST(Svg, LineChartRangeCoversPointsErrorBarsAndReferencesWithCategoricalTicks) {
  report::LineChart c;
  c.title = "family <probe>";
  c.x_ticks = {"conv1", "pool1", "conv3"};
  c.series.push_back({"regular (family)", {0, 1, 2}, {0.5, 0.8, 0.9}, {0.05, NAN, 0.02}});
  c.references.push_back({"chance", 0.125});
  const auto [lo, hi] = report::y_range(c);
  EXPECT_DOUBLE_EQ(lo, 0.125);
  EXPECT_DOUBLE_EQ(hi, 0.92);
  const auto svg = report::line_chart_svg(c);
  EXPECT_NE(svg.find("family &lt;probe&gt;"), std::string::npos);
  // The ticks in order, each point's exact value, the reference line and its label.
  const auto p1 = svg.find(">conv1</text>"), p2 = svg.find(">pool1</text>"), p3 = svg.find(">conv3</text>");
  ASSERT_NE(p1, std::string::npos);
  EXPECT_LT(p1, p2);
  EXPECT_LT(p2, p3);
  EXPECT_NE(svg.find("<title>regular (family), pool1: 0.8000</title>"), std::string::npos);
  EXPECT_NE(svg.find("<title>regular (family), conv1: 0.5000 +- 0.0500</title>"), std::string::npos);
  EXPECT_EQ(count(svg, "class='reference'"), 1u);
  EXPECT_NE(svg.find("<title>chance: 0.1250</title>"), std::string::npos);
  // The y ticks are round values inside the range 0.125 .. 0.92: 0.2, 0.4, 0.6, 0.8.
  for (const char* tick : {">0.2</text>", ">0.4</text>", ">0.6</text>", ">0.8</text>"})
    EXPECT_NE(svg.find(tick), std::string::npos) << tick;
  EXPECT_EQ(svg.find(">1.0</text>"), std::string::npos);  // above the range
  // One point only: a non-empty range around it.
  report::LineChart one;
  one.series.push_back({"s", {0}, {2.0}, {}});
  EXPECT_EQ(report::y_range(one), (std::pair<double, double>{1.5, 2.5}));
}

TEST(Svg, MelAxesGiveBinCentresInHzAndFramesInSeconds) {
  // 128 mel bins, 0-8000 Hz (librosa.mel_frequencies(130, 0, 8000)[1:-1], the same formula in
  // numpy: bin 0 at 23.38 Hz, bin 127 at 7809.39 Hz), 126 frames at hop 512 / 16 kHz (0 to 4.0 s).
  const auto axes = report::mel_axes(128, 126, 0.0, 8000.0, 512, 16000);
  ASSERT_EQ(axes.y_ticks.size(), 5u);
  EXPECT_EQ(axes.y_ticks.front(), (std::pair<int, std::string>{0, "23"}));
  EXPECT_EQ(axes.y_ticks.back(), (std::pair<int, std::string>{127, "7809"}));
  ASSERT_EQ(axes.x_ticks.size(), 5u);
  EXPECT_EQ(axes.x_ticks.front(), (std::pair<int, std::string>{0, "0.0"}));
  EXPECT_EQ(axes.x_ticks.back(), (std::pair<int, std::string>{125, "4.0"}));
  // Low frequencies at the bottom: bin 0's label sits below bin 127's.
  const std::vector<float> values(128 * 126, 1.0f);
  const auto svg = report::image_svg("n", values, 128, 126, 2, &axes);
  std::smatch low, high;
  ASSERT_TRUE(std::regex_search(svg, low, std::regex("y='([0-9]+)' text-anchor='end'>23<")));
  ASSERT_TRUE(std::regex_search(svg, high, std::regex("y='([0-9]+)' text-anchor='end'>7809<")));
  EXPECT_GT(std::stoi(low[1]), std::stoi(high[1]));
  EXPECT_NE(svg.find(">time (s)</text>"), std::string::npos);
}

TEST(ReportProbes, CurvesPerTargetFromTransferWithBaselinesAndBestHandSetAsReferences) {
  const auto dir = cfma::test::scratch_dir("report_probe_curves");
  const cfma::WorkPaths paths{dir / "work"};
  cfma::test::write_text(paths.results() / "transfer.csv",
             "arch,model_task,layer,target,split,metric,mean,sd,ci95_low,ci95_high,seeds\n"
             "regular,family,conv1,family,test,accuracy,0.6,0.1,0.4,0.8,3\n"
             "regular,family,conv3,family,test,accuracy,0.9,0.05,0.8,1,3\n"
             "regular,untrained,conv1,family,test,accuracy,0.5,,,,1\n"
             "regular,untrained,conv3,family,test,accuracy,0.7,,,,1\n"
             "regular,family,conv3,family,train,accuracy,1,,,,1\n"
             "regular,family,conv3,pitch,test,rmse,4.5,,,,1\n");
  cfma::test::write_text(paths.results() / "baselines.csv",
             "baseline,target,split,metric,value,seeds\n"
             "chance,family,test,accuracy,0.25,0\nnoise,family,test,accuracy,0.3,0\n"
             "untrained:regular/conv1,family,test,accuracy,0.5,1\nchance,pitch,test,rmse,12,0\n");
  cfma::test::write_text(paths.results() / "probes.csv",
             "set,run,arch,task,seed,layer,target,split,metric,value\n"
             "hand/rms,,,,,,family,test,accuracy,0.55\nhand/centroid,,,,,,family,test,accuracy,0.65\n"
             "hand/rms,,,,,,pitch,test,rmse,9\nhand/centroid,,,,,,pitch,test,rmse,7\n");
  const auto curves = report::probe_curves(paths);
  ASSERT_EQ(curves.size(), 2u);  // family accuracy and pitch RMSE; no pitch_class or velocity rows
  const auto& family = curves[0];
  EXPECT_EQ(family.target, "family");
  EXPECT_EQ(family.chart.x_ticks, (std::vector<std::string>{"conv1", "conv3"}));
  ASSERT_EQ(family.chart.series.size(), 2u);
  EXPECT_EQ(family.chart.series[0].name, "regular (family)");
  EXPECT_EQ(family.chart.series[0].y, (std::vector<double>{0.6, 0.9}));
  EXPECT_EQ(family.chart.series[0].error, (std::vector<double>{0.1, 0.05}));
  EXPECT_TRUE(std::isnan(family.chart.series[1].error[0]));  // one seed: no bar
  ASSERT_EQ(family.chart.references.size(), 3u);  // chance, noise, best hand (untrained rows are series)
  EXPECT_EQ(family.chart.references[0].name, "chance (majority class)");
  EXPECT_EQ(family.chart.references[2].name, "best hand-crafted: hand/centroid");
  EXPECT_DOUBLE_EQ(family.chart.references[2].y, 0.65);
  EXPECT_EQ(curves[1].chart.references.back().name, "best hand-crafted: hand/centroid");  // lowest RMSE
  EXPECT_DOUBLE_EQ(curves[1].chart.references.back().y, 7);
  EXPECT_EQ(family.data.rows.size(), 4u + 3u);
  // The section writes each figure and its data, and links both.
  report::FigureWriter figures{dir};
  const auto html = report::probe_section(paths, figures);
  EXPECT_EQ(figures.figures, 2);
  for (const char* file : {"probe_curve_family_accuracy.svg", "probe_curve_family_accuracy.csv", "probe_curve_pitch_rmse.csv"}) {
    EXPECT_TRUE(std::filesystem::exists(dir / file)) << file;
    EXPECT_NE(html.find(file), std::string::npos) << file;
  }
  // Compact transfer tables: models x layers, mean +- sd; the long CSVs are links, not inline.
  const auto tables = report::transfer_tables(paths);
  ASSERT_EQ(tables.size(), 2u);
  EXPECT_EQ(tables[0].second.header, (std::vector<std::string>{"model (training task)", "conv1", "conv3"}));
  ASSERT_EQ(tables[0].second.rows.size(), 2u);
  EXPECT_EQ(tables[0].second.rows[0], (std::vector<std::string>{"regular (family)", "0.6 \u00b1 0.1", "0.9 \u00b1 0.05"}));
  EXPECT_EQ(tables[0].second.rows[1], (std::vector<std::string>{"regular (untrained)", "0.5", "0.7"}));
  EXPECT_EQ(tables[1].second.rows[0], (std::vector<std::string>{"regular (family)", "4.5"}));
  EXPECT_NE(html.find("<a href=\"../results/transfer.csv\">"), std::string::npos);
  EXPECT_EQ(html.find("regular,family,conv1"), std::string::npos);
  std::ifstream csv(dir / "probe_curve_family_accuracy.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "series,layer,mean,sd,seeds");
}

TEST(ReportTraining, ConfusionHeatmapShowsRowSharesWithClassNames) {
  const report::Table counts{{"true\\predicted", "brass", "flute", "reed"},
                             {{"brass", "6", "2", "0"}, {"flute", "0", "5", "0"}, {"reed", "0", "0", "0"}}};
  const auto h = report::confusion_heatmap(counts, "regular-family-s1");
  EXPECT_EQ(h.row_labels, (std::vector<std::string>{"brass", "flute", "reed"}));
  EXPECT_EQ(h.col_labels, (std::vector<std::string>{"brass", "flute", "reed"}));
  ASSERT_EQ(h.values.size(), 9u);
  EXPECT_DOUBLE_EQ(h.values[0], 0.75);
  EXPECT_DOUBLE_EQ(h.values[1], 0.25);
  EXPECT_DOUBLE_EQ(h.values[4], 1.0);
  EXPECT_TRUE(std::isnan(h.values[8]));  // a class with no test notes: no shares
  EXPECT_NE(report::heatmap_svg(h).find("<title>brass / flute: 0.2500</title>"), std::string::npos);
}

TEST(ReportPage, EmptyWorkdirListsEveryStageAsMissing) {
  const auto dir = cfma::test::scratch_dir("report_page_empty");
  report::FigureWriter figures{dir};
  const auto page = report::report_page(cfma::WorkPaths{dir / "work"}, "t<1>", report::ReportConfig{}, figures);
  EXPECT_EQ(figures.figures, 0);
  EXPECT_NE(page.find("<title>cfma report: t&lt;1&gt;</title>"), std::string::npos);
  for (const char* missing : {"features.h5 missing (preprocess did not run)", "No runs (train did not run)",
                              "No probe results (probe did not run)",
                              "No similarity results (similarity did not run)"})
    EXPECT_NE(page.find(missing), std::string::npos) << missing;
  EXPECT_EQ(page.substr(page.size() - 15), "</body></html>\n");
}

}  // namespace
