// The report's pieces that need no pipeline outputs: [report] parsing, HTML tables, and the
// page of an empty workdir (every stage listed as missing, no figures).
#include <gtest/gtest.h>

#include "cfma/core/config.hpp"
#include "cfma/core/error.hpp"
#include "cfma/report/html.hpp"
#include "cfma/report/page.hpp"
#include "cfma/report/report_config.hpp"
#include "tests/test_paths.hpp"

namespace {

using cfma::ConfigDoc;
namespace report = cfma::report;

TEST(ReportConfig, DefaultsAndRange) {
  const auto defaults = report::parse_report_config(ConfigDoc::from_string("", "empty.toml"));
  EXPECT_EQ(defaults.spectrograms, 4);
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
