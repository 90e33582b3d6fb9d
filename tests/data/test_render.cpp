// SoundFont renderer: the GM table, the default dataset's make-up, and small real renders
// (TimGM6mb, a few programs, coarse pitch steps) checked for NSynth's layout and determinism.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cfma/core/error.hpp"
#include "cfma/data/gm_table.hpp"
#include "cfma/data/nsynth.hpp"
#include "cfma/data/render.hpp"
#include "cfma/data/selection.hpp"
#include "tests/test_paths.hpp"

namespace cfma::data {
namespace {

namespace fs = std::filesystem;

std::string bytes_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A small render: violin (every 9th pitch) and acoustic bass (every 9th pitch) = 6 + 4 notes.
RenderConfig small_config(const fs::path& out) {
  RenderConfig c = default_render_config();
  c.soundfont = test::soundfont_path();
  c.out = out;
  c.programs = {40, 32};
  c.pitch_step = 9;
  return c;
}

TEST(GmTable, EntriesAreOrderedAndInsideNsynthRanges) {
  const auto& table = gm_instruments();
  ASSERT_EQ(table.size(), 96u);  // 128 less 55, 88-103, 113-127
  for (std::size_t i = 0; i < table.size(); ++i) {
    const auto& g = table[i];
    if (i > 0) {
      EXPECT_LT(table[i - 1].program, g.program);
    }
    EXPECT_GE(g.lowest_pitch, 9) << g.name;
    EXPECT_LE(g.highest_pitch, 120) << g.name;
    EXPECT_LT(g.lowest_pitch, g.highest_pitch) << g.name;
    EXPECT_GE(g.family, 0);
    EXPECT_LE(g.family, 10);
    EXPECT_GE(g.source, 0);
    EXPECT_LE(g.source, 2);
    EXPECT_EQ(find_gm_instrument(g.program), &g);
  }
  EXPECT_EQ(find_gm_instrument(55), nullptr);  // orchestra hit
  EXPECT_EQ(find_gm_instrument(90), nullptr);  // a pad
  EXPECT_EQ(find_gm_instrument(40)->name, "Violin");
  EXPECT_EQ(find_gm_instrument(40)->family, nsynth_family_code("string"));
  EXPECT_EQ(find_gm_instrument(33)->source, nsynth_source_code("electronic"));
  std::set<int> families;
  for (const auto& g : table) families.insert(g.family);
  EXPECT_EQ(families.size(), 11u);  // every NSynth family has a GM instrument
}

TEST(RenderPlan, DefaultDatasetCoversThePapersFamilies) {
  const auto config = default_render_config();
  std::map<std::string, std::set<int>> programs_per_family;
  for (int p : config.programs) {
    const auto* g = find_gm_instrument(p);
    ASSERT_NE(g, nullptr) << p;
    EXPECT_EQ(g->source, 0) << g->name;  // acoustic
    programs_per_family[nsynth_family_names()[static_cast<std::size_t>(g->family)]].insert(p);
  }
  for (const char* family : {"brass", "flute", "guitar", "keyboard", "mallet", "reed", "string", "vocal"})
    EXPECT_GE(programs_per_family[family].size(), 2u) << family;
  EXPECT_GE(programs_per_family["bass"].size(), 1u);
  EXPECT_GE(programs_per_family["organ"].size(), 1u);

  const auto plan = plan_notes(config);
  std::set<std::string> names;
  std::set<int> velocities;
  for (const auto& n : plan) {
    names.insert(n.note_str);
    velocities.insert(n.velocity);
  }
  EXPECT_EQ(names.size(), plan.size());  // note_str unique
  EXPECT_EQ(plan.size(), 607u);          // 525 of them survive the default [data] filter
  EXPECT_EQ(velocities, (std::set<int>{25, 50, 75, 100, 127}));
}

TEST(RenderPlan, DefaultDatasetSplitsByInstrument) {
  // The default notes as render_dataset indexes them (all audible), split with data.split =
  // "instrument" at the default test_fraction: every family of the paper in both splits.
  DatasetScan scan;
  scan.root = "default-render";
  for (const auto& planned : plan_notes(default_render_config())) {
    const auto& gm = *find_gm_instrument(planned.program);
    Example e;
    e.note_str = planned.note_str;
    e.instrument = planned.program;
    e.instrument_str = planned.instrument_str;
    e.instrument_family = gm.family;
    e.instrument_source = gm.source;
    scan.examples.push_back(e);
  }
  DataConfig config;
  config.split = Split::instrument;
  const auto sel = select_examples(scan, config);
  EXPECT_EQ(sel.family_names, (std::vector<std::string>{"brass", "flute", "guitar", "keyboard", "mallet", "reed",
                                                         "string", "vocal"}));
  std::map<int, std::set<std::int64_t>> train, test;
  for (const auto& [rows, instruments] : {std::pair{&sel.train, &train}, std::pair{&sel.test, &test}}) {
    for (auto i : *rows) {
      const auto& e = sel.examples[static_cast<std::size_t>(i)];
      (*instruments)[e.instrument_family].insert(e.instrument);
    }
  }
  for (int family : sel.family_codes) {
    EXPECT_EQ(test[family].size(), 1u) << family;  // round(0.3 * 2) = round(0.3 * 3) = 1
    EXPECT_GE(train[family].size(), 1u) << family;
  }
}

TEST(RenderPlan, NoteNamesFollowNsynth) {
  RenderConfig c = default_render_config();
  c.programs = {40};
  c.pitch_step = 20;
  c.velocities_per_pitch = 2;
  const auto plan = plan_notes(c);
  // Violin 55..100 step 20 -> 55, 75, 95; velocities cycle from offset 40 % 5 = 0.
  ASSERT_EQ(plan.size(), 6u);
  EXPECT_EQ(plan[0].note_str, "string_acoustic_040-055-025");
  EXPECT_EQ(plan[1].note_str, "string_acoustic_040-055-050");
  EXPECT_EQ(plan[2].note_str, "string_acoustic_040-075-075");
  EXPECT_EQ(plan[5].note_str, "string_acoustic_040-095-025");
  EXPECT_EQ(plan[0].instrument_str, "string_acoustic_040");
}

TEST(Render, WritesNsynthLayoutThatTheReaderAccepts) {
  const auto out = test::scratch_dir("render-layout");
  const auto summary = render_dataset(small_config(out));
  EXPECT_EQ(summary.notes_written + summary.notes_silent, 10);
  EXPECT_EQ(summary.notes_silent, 0);
  EXPECT_EQ(summary.notes_per_family.at("string"), 6);
  EXPECT_EQ(summary.notes_per_family.at("bass"), 4);

  const auto scan = scan_dataset(out);
  EXPECT_TRUE(scan.problems.empty());
  ASSERT_EQ(scan.examples.size(), 10u);
  const auto& e = scan.examples.front();  // bass_acoustic_032-028-...
  EXPECT_EQ(e.note_str.substr(0, 22), "bass_acoustic_032-028-");
  EXPECT_EQ(e.instrument, 32);
  EXPECT_EQ(e.instrument_str, "bass_acoustic_032");
  EXPECT_EQ(e.instrument_family, 0);
  EXPECT_EQ(e.instrument_family_str, "bass");
  EXPECT_EQ(e.instrument_source, 0);
  EXPECT_EQ(e.pitch, 28);
  EXPECT_EQ(e.sample_rate, 16000);
  EXPECT_EQ(e.qualities, (std::array<std::uint8_t, 10>{}));

  // Every wav: 16 kHz, mono, PCM16, 64000 samples, audible, louder while held than at the end.
  for (const auto& ex : scan.examples) {
    SF_INFO info{};
    SNDFILE* f = sf_open(ex.wav.c_str(), SFM_READ, &info);
    ASSERT_NE(f, nullptr) << ex.wav;
    sf_close(f);
    EXPECT_EQ(info.samplerate, 16000);
    EXPECT_EQ(info.channels, 1);
    EXPECT_EQ(info.frames, 64000);
    EXPECT_EQ(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    EXPECT_EQ(fs::file_size(ex.wav), 44u + 2u * 64000u);
    const auto y = read_note_audio(ex, DataConfig{});
    double peak = 0, held = 0, tail = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
      peak = std::max(peak, static_cast<double>(std::abs(y[i])));
      if (i < 16000) held += y[i] * y[i];
      if (i >= 56000) tail += y[i] * y[i];
    }
    EXPECT_GT(peak, 0.005) << ex.note_str;
    EXPECT_LT(peak, 1.0) << ex.note_str;
    EXPECT_GT(held, 10 * tail) << ex.note_str;  // note off at 3 s: the last 0.5 s decays
  }

  // The default [data] filter drops the bass notes.
  const auto sel = select_examples(scan, DataConfig{});
  EXPECT_EQ(sel.examples.size(), 6u);
  EXPECT_EQ(sel.family_names, (std::vector<std::string>{"string"}));
}

TEST(Render, IsByteIdenticalAndIndependentOfOtherNotes) {
  const auto a = test::scratch_dir("render-det-a");
  const auto b = test::scratch_dir("render-det-b");
  const auto c = test::scratch_dir("render-det-c");
  render_dataset(small_config(a));
  render_dataset(small_config(b));
  auto violin_only = small_config(c);
  violin_only.programs = {40};  // rendered first this time, after no bass notes
  render_dataset(violin_only);
  EXPECT_EQ(bytes_of(a / "examples.json"), bytes_of(b / "examples.json"));
  int compared = 0;
  for (const auto& entry : fs::directory_iterator(a / "audio")) {
    const auto name = entry.path().filename();
    EXPECT_EQ(bytes_of(entry.path()), bytes_of(b / "audio" / name)) << name;
    if (name.string().rfind("string_", 0) == 0) {
      EXPECT_EQ(bytes_of(entry.path()), bytes_of(c / "audio" / name)) << name;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 6);
}

TEST(Render, ReplacesAPreviousRenderAndSkipsSilence) {
  const auto out = test::scratch_dir("render-replace");
  render_dataset(small_config(out));
  auto quiet = small_config(out);
  quiet.programs = {40};
  quiet.silence_threshold = 0.999;  // nothing is that loud: every note counts as silent
  const auto summary = render_dataset(quiet);
  EXPECT_EQ(summary.notes_written, 0);
  EXPECT_EQ(summary.notes_silent, 6);
  EXPECT_EQ(summary.silent_notes.front(), "string_acoustic_040-055-025");
  const auto scan = scan_dataset(out);
  EXPECT_TRUE(scan.examples.empty());
  EXPECT_TRUE(scan.problems.empty());  // no stale wavs left behind
}

TEST(Render, BadInputsThrowNamingTheCulprit) {
  const auto out = test::scratch_dir("render-bad");
  auto c = small_config(out);
  c.soundfont = out / "missing.sf2";
  try {
    render_dataset(c);
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.sf2: SoundFont not found"), std::string::npos) << e.what();
  }
  std::ofstream(out / "junk.sf2") << "not a soundfont";
  c.soundfont = out / "junk.sf2";
  try {
    render_dataset(c);
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("junk.sf2: cannot load SoundFont"), std::string::npos) << e.what();
  }
  c = small_config(out);
  c.programs = {40, 120};
  try {
    render_dataset(c);
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("GM program 120 has no NSynth family"), std::string::npos) << e.what();
  }
}

TEST(RenderConfig, ParsesRenderSection) {
  auto c = parse_render_config(ConfigDoc::from_string(""));
  EXPECT_EQ(c.programs, default_render_config().programs);
  EXPECT_EQ(c.soundfont, fs::path("/usr/share/sounds/sf2/TimGM6mb.sf2"));
  EXPECT_EQ(c.pitch_step, 2);
  const auto doc = ConfigDoc::from_string(
      "[render]\nsoundfont = \"/x.sf2\"\nout = \"/tmp/o\"\nprograms = [40, 41]\npitch_step = 3\n"
      "velocities = [50, 100]\nvelocities_per_pitch = 2\ngain = 0.8\nsilence_threshold = 0.01\n");
  c = parse_render_config(doc);
  doc.check_unknown_keys();
  EXPECT_EQ(c.soundfont, fs::path("/x.sf2"));
  EXPECT_EQ(c.out, fs::path("/tmp/o"));
  EXPECT_EQ(c.programs, (std::vector<int>{40, 41}));
  EXPECT_EQ(c.pitch_step, 3);
  EXPECT_EQ(c.velocities, (std::vector<int>{50, 100}));
  EXPECT_EQ(c.velocities_per_pitch, 2);
  EXPECT_DOUBLE_EQ(c.gain, 0.8);
  EXPECT_DOUBLE_EQ(c.silence_threshold, 0.01);
  EXPECT_EQ(to_json(c).at("programs"), nlohmann::json({40, 41}));
  try {
    parse_render_config(ConfigDoc::from_string("[render]\nprograms = [55]\n", "demo.toml"));
    ADD_FAILURE() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("demo.toml:2: render.programs[0]: GM program 55 has no NSynth family"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace cfma::data
