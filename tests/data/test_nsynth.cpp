// NSynth reader: nsynth-mini (24 real notes), every kind of bad input, and the official
// three-folder layout (data.split = "official"), written as real files into scratch folders.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "cfma/core/error.hpp"
#include "cfma/data/nsynth.hpp"
#include "cfma/data/selection.hpp"
#include "tests/test_paths.hpp"

namespace cfma::data {
namespace {

namespace fs = std::filesystem;

fs::path mini_root() { return test::shared_dir() / "reference" / "nsynth-mini"; }

// Runs `f`, expects a DataError whose single-line message contains every needle.
template <class F>
std::string expect_data_error(F&& f, std::initializer_list<std::string> needles) {
  try {
    f();
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    for (const auto& needle : needles) EXPECT_NE(msg.find(needle), std::string::npos) << "'" << needle << "' not in: " << msg;
    return msg;
  }
  ADD_FAILURE() << "no DataError thrown";
  return {};
}

Example make_example(const std::string& note_str, int family = 1, int source = 0) {
  Example e;
  e.note = 7;
  e.note_str = note_str;
  e.instrument = 913;
  e.instrument_str = "brass_acoustic_913";
  e.pitch = 60;
  e.velocity = 100;
  e.sample_rate = 16000;
  e.instrument_source = source;
  e.instrument_source_str = nsynth_source_names()[static_cast<std::size_t>(source)];
  e.instrument_family = family;
  e.instrument_family_str = nsynth_family_names()[static_cast<std::size_t>(family)];
  e.qualities = {1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  e.qualities_str = {"bright", "fast_decay"};
  return e;
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  out << text;
}

void write_index(const fs::path& root, const std::vector<Example>& examples) {
  nlohmann::json index = nlohmann::json::object();
  for (const auto& e : examples) index[e.note_str] = to_nsynth_json(e);
  fs::create_directories(root / "audio");
  write_text(root / "examples.json", index.dump(2));
}

// A wav written through libsndfile with the given layout; samples = a quiet ramp.
void write_wav(const fs::path& file, int sample_rate, int channels, std::int64_t frames,
               int format = SF_FORMAT_WAV | SF_FORMAT_PCM_16, float poison = 0.0f,
               std::int64_t poison_at = -1) {
  SF_INFO info{};
  info.samplerate = sample_rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open(file.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << sf_strerror(nullptr);
  std::vector<float> data(static_cast<std::size_t>(frames * channels));
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = 0.25f * static_cast<float>(i % 100) / 100.0f;
  if (poison_at >= 0) data[static_cast<std::size_t>(poison_at)] = poison;
  ASSERT_EQ(sf_writef_float(f, data.data(), frames), frames);
  sf_close(f);
}

TEST(NSynthReader, ReadsNsynthMiniInNoteStrOrder) {
  const auto scan = scan_dataset(mini_root());
  ASSERT_EQ(scan.examples.size(), 24u);
  EXPECT_TRUE(scan.problems.empty());
  for (std::size_t i = 1; i < scan.examples.size(); ++i)
    EXPECT_LT(scan.examples[i - 1].note_str, scan.examples[i].note_str);
  const auto& first = scan.examples.front();
  EXPECT_EQ(first.note_str, "brass_acoustic_913-052-100");
  EXPECT_EQ(first.note, 343);
  EXPECT_EQ(first.instrument, 913);
  EXPECT_EQ(first.instrument_str, "brass_acoustic_913");
  EXPECT_EQ(first.pitch, 52);
  EXPECT_EQ(first.velocity, 100);
  EXPECT_EQ(first.sample_rate, 16000);
  EXPECT_EQ(first.instrument_family, 1);
  EXPECT_EQ(first.instrument_family_str, "brass");
  EXPECT_EQ(first.instrument_source, 0);
  EXPECT_EQ(first.instrument_source_str, "acoustic");
  EXPECT_EQ(first.qualities, (std::array<std::uint8_t, 10>{}));
  EXPECT_TRUE(first.qualities_str.empty());
  EXPECT_EQ(first.wav, mini_root() / "audio" / "brass_acoustic_913-052-100.wav");
  EXPECT_EQ(scan.index_files, (std::vector<fs::path>{mini_root() / "examples.json"}));
  const auto& last = scan.examples.back();
  EXPECT_EQ(last.note_str, "vocal_acoustic_925-040-127");
  EXPECT_EQ(last.instrument_family, 10);
  EXPECT_EQ(last.pitch, 40);
  EXPECT_EQ(last.velocity, 127);
}

TEST(NSynthReader, AudioIsPcm16Over32768Exactly) {
  const auto scan = scan_dataset(mini_root());
  const DataConfig config;
  for (const auto& e : {scan.examples.front(), scan.examples.back()}) {
    const auto samples = read_note_audio(e, config);
    ASSERT_EQ(samples.size(), 64000u);
    SF_INFO info{};
    SNDFILE* f = sf_open(e.wav.c_str(), SFM_READ, &info);
    ASSERT_NE(f, nullptr);
    std::vector<short> pcm(64000);
    ASSERT_EQ(sf_readf_short(f, pcm.data(), 64000), 64000);
    sf_close(f);
    double energy = 0;
    for (std::size_t i = 0; i < pcm.size(); ++i) {
      ASSERT_EQ(samples[i], static_cast<float>(pcm[i]) / 32768.0f) << e.note_str << " sample " << i;
      energy += samples[i] * samples[i];
    }
    EXPECT_GT(energy, 1.0) << e.note_str;  // real notes, not silence
  }
}

TEST(NSynthReader, ExampleJsonRoundTrip) {
  auto e = make_example("brass_acoustic_913-060-100");
  e.wav = "/x/audio/brass_acoustic_913-060-100.wav";
  const nlohmann::json j = e;
  EXPECT_EQ(j.at("wav"), "/x/audio/brass_acoustic_913-060-100.wav");
  EXPECT_EQ(j.at("qualities"), nlohmann::json({1, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(j.get<Example>(), e);
  EXPECT_FALSE(to_nsynth_json(e).contains("wav"));
  EXPECT_EQ(to_nsynth_json(e).size(), 13u);  // NSynth's 13 fields
}

TEST(NSynthReader, MalformedJsonNamesFileAndLine) {
  const auto root = test::scratch_dir("nsynth-malformed");
  fs::create_directories(root / "audio");
  write_text(root / "examples.json", "{\n  \"a\": {\"note\": 1,\n  \"b\" 2\n}\n");
  expect_data_error([&] { scan_dataset(root); },
                    {(root / "examples.json").string() + ": line 3: ", "syntax error"});
}

TEST(NSynthReader, MissingIndexNamesFile) {
  const auto root = test::scratch_dir("nsynth-noindex");
  expect_data_error([&] { scan_dataset(root); }, {(root / "examples.json").string(), "cannot open"});
}

TEST(NSynthReader, MissingOrMistypedKeyNamesNoteAndKey) {
  const auto root = test::scratch_dir("nsynth-badkey");
  const auto e = make_example("brass_acoustic_913-060-100");
  write_index(root, {e});
  auto index = nlohmann::json::parse(std::ifstream(root / "examples.json"));
  index[e.note_str].erase("pitch");
  write_text(root / "examples.json", index.dump());
  expect_data_error([&] { scan_dataset(root); },
                    {"examples.json", "brass_acoustic_913-060-100", "'pitch'", "missing"});
  index[e.note_str]["pitch"] = "60";
  write_text(root / "examples.json", index.dump());
  expect_data_error([&] { scan_dataset(root); },
                    {"brass_acoustic_913-060-100", "'pitch'", "must be an integer"});
  index[e.note_str]["pitch"] = 60;
  index[e.note_str]["qualities"] = {0, 1};
  write_text(root / "examples.json", index.dump());
  expect_data_error([&] { scan_dataset(root); }, {"brass_acoustic_913-060-100", "'qualities'"});
  index[e.note_str]["qualities"] = nlohmann::json::array({0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  index[e.note_str]["instrument_family_str"] = "flute";
  write_text(root / "examples.json", index.dump());
  expect_data_error([&] { scan_dataset(root); }, {"'instrument_family_str'", "does not match code 1"});
}

TEST(NSynthReader, UnpairedEntriesAndWavsAreProblems) {
  const auto root = test::scratch_dir("nsynth-unpaired");
  const auto paired = make_example("brass_acoustic_913-060-100");
  const auto no_wav = make_example("brass_acoustic_913-062-100");
  write_index(root, {paired, no_wav});
  write_wav(root / "audio" / (paired.note_str + ".wav"), 16000, 1, 64000);
  write_wav(root / "audio" / "flute_acoustic_001-070-050.wav", 16000, 1, 64000);
  const auto scan = scan_dataset(root);
  ASSERT_EQ(scan.examples.size(), 1u);
  EXPECT_EQ(scan.examples[0].note_str, paired.note_str);
  ASSERT_EQ(scan.problems.size(), 2u);
  EXPECT_EQ(scan.problems[0].note_str, no_wav.note_str);
  EXPECT_EQ(scan.problems[0].file, root / "audio" / (no_wav.note_str + ".wav"));
  EXPECT_NE(scan.problems[0].message.find("missing wav"), std::string::npos);
  EXPECT_EQ(scan.problems[1].note_str, "flute_acoustic_001-070-050");
  EXPECT_NE(to_string(scan.problems[1]).find("flute_acoustic_001-070-050.wav: wav has no entry in"),
            std::string::npos);
}

class BadWav : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test::scratch_dir(std::string("nsynth-badwav-") +
                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(root_ / "audio");
    example_ = make_example("brass_acoustic_913-060-100");
    example_.wav = root_ / "audio" / (example_.note_str + ".wav");
  }
  std::string read_error(std::initializer_list<std::string> needles) {
    std::vector<std::string> all = {example_.wav.string() + ": "};
    all.insert(all.end(), needles.begin(), needles.end());
    try {
      read_note_audio(example_, config_);
    } catch (const DataError& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.find('\n'), std::string::npos);
      for (const auto& n : all) EXPECT_NE(msg.find(n), std::string::npos) << "'" << n << "' not in: " << msg;
      return msg;
    }
    ADD_FAILURE() << "no DataError";
    return {};
  }
  fs::path root_;
  Example example_;
  DataConfig config_;
};

TEST_F(BadWav, GoodFileReads) {
  write_wav(example_.wav, 16000, 1, 64000);
  const auto samples = read_note_audio(example_, config_);
  ASSERT_EQ(samples.size(), 64000u);
  EXPECT_EQ(samples[50], std::lrint(0.25 * 0.5 * 32767) / 32768.0f);  // libsndfile writes float*32767
}

TEST_F(BadWav, WrongSampleRate) {
  write_wav(example_.wav, 22050, 1, 64000);
  read_error({"sample rate 22050 Hz, expected 16000 Hz"});
}

TEST_F(BadWav, Stereo) {
  write_wav(example_.wav, 16000, 2, 64000);
  read_error({"2 channels, expected mono"});
}

TEST_F(BadWav, WrongLength) {
  write_wav(example_.wav, 16000, 1, 32000);
  const auto msg = read_error({"32000 samples, expected 64000"});
  EXPECT_EQ(msg.find("truncated"), std::string::npos);
}

TEST_F(BadWav, Truncated) {
  write_wav(example_.wav, 16000, 1, 64000);
  fs::resize_file(example_.wav, 44 + 2 * 20000);  // header + 20000 samples left
  read_error({"truncated", "20000 samples, expected 64000"});
}

TEST_F(BadWav, Corrupt) {
  write_text(example_.wav, std::string(5000, 'x'));
  read_error({"cannot read wav"});
}

TEST_F(BadWav, Missing) {
  read_error({"cannot read wav", "does not exist"});
}

TEST_F(BadWav, NaNInFloatWav) {
  write_wav(example_.wav, 16000, 1, 64000, SF_FORMAT_WAV | SF_FORMAT_FLOAT,
            std::numeric_limits<float>::quiet_NaN(), 1234);
  read_error({"non-finite sample (NaN) at index 1234"});
}

TEST_F(BadWav, InfInFloatWav) {
  write_wav(example_.wav, 16000, 1, 64000, SF_FORMAT_WAV | SF_FORMAT_FLOAT,
            -std::numeric_limits<float>::infinity(), 63999);
  read_error({"non-finite sample (Inf) at index 63999"});
}

// NSynth's official layout (data.split = "official"): three jsonwav folders under one root.
void write_folder(const fs::path& dir, const std::vector<std::string>& note_strs) {
  std::vector<Example> notes;
  for (const auto& name : note_strs) {
    const auto family_str = name.substr(0, name.find('_'));
    const auto source_str = name.substr(name.find('_') + 1, name.find('_', name.find('_') + 1) - name.find('_') - 1);
    auto e = make_example(name, nsynth_family_code(family_str), nsynth_source_code(source_str));
    e.instrument_str = name.substr(0, name.find('-'));
    notes.push_back(e);
  }
  write_index(dir, notes);
  for (const auto& e : notes) write_wav(dir / "audio" / (e.note_str + ".wav"), 16000, 1, 64000);
}

const std::vector<std::string> official_train = {"brass_acoustic_913-060-100", "flute_acoustic_002-060-100",
                                                 "guitar_electronic_003-060-100", "bass_acoustic_004-050-100"};
const std::vector<std::string> official_valid = {"brass_acoustic_913-062-100", "flute_acoustic_002-062-100"};
const std::vector<std::string> official_test = {"brass_acoustic_913-064-100", "flute_acoustic_002-064-100",
                                                "keyboard_acoustic_005-060-100"};

fs::path official_root(const std::string& name) {
  const auto root = test::scratch_dir(name);
  write_folder(root / "nsynth-train", official_train);
  write_folder(root / "nsynth-valid", official_valid);
  write_folder(root / "nsynth-test", official_test);
  return root;
}

std::string folder_of(const Example& e) { return e.wav.parent_path().parent_path().filename().string(); }

std::vector<std::string> note_strs(const Selection& sel, const std::vector<std::int64_t>& rows) {
  std::vector<std::string> out;
  for (auto i : rows) out.push_back(sel.examples[static_cast<std::size_t>(i)].note_str);
  return out;
}

TEST(OfficialSplit, TrainFromNsynthTrainTestFromNsynthTest) {
  const auto root = official_root("nsynth-official");
  const auto scan = scan_official(root);
  EXPECT_EQ(scan.root, root);
  EXPECT_EQ(scan.index_files, (std::vector<fs::path>{root / "nsynth-train" / "examples.json",
                                                     root / "nsynth-test" / "examples.json"}));
  ASSERT_EQ(scan.examples.size(), 7u);  // nsynth-valid is not read
  EXPECT_TRUE(scan.problems.empty());
  for (std::size_t i = 1; i < scan.examples.size(); ++i)
    EXPECT_LT(scan.examples[i - 1].note_str, scan.examples[i].note_str);
  for (const auto& e : scan.examples) {
    EXPECT_EQ(e.wav.parent_path().parent_path().parent_path(), root) << e.wav;
    EXPECT_NE(folder_of(e), "nsynth-valid") << e.note_str;
  }
  auto sorted_test = official_test;
  std::sort(sorted_test.begin(), sorted_test.end());
  EXPECT_EQ(scan.official_test, sorted_test);

  DataConfig config;  // acoustic, no bass/organ: drops guitar_electronic and bass_acoustic
  config.split = Split::official;
  EXPECT_EQ(scan_data_root(DataConfig{.root = root, .split = Split::official}).examples, scan.examples);
  const auto sel = select_examples(scan, config);
  EXPECT_EQ(note_strs(sel, sel.train),
            (std::vector<std::string>{"brass_acoustic_913-060-100", "flute_acoustic_002-060-100"}));
  EXPECT_EQ(note_strs(sel, sel.test), (std::vector<std::string>{"brass_acoustic_913-064-100",
                                                                "flute_acoustic_002-064-100",
                                                                "keyboard_acoustic_005-060-100"}));
  EXPECT_EQ(sel.train, (std::vector<std::int64_t>{0, 2}));
  EXPECT_EQ(sel.test, (std::vector<std::int64_t>{1, 3, 4}));
  for (auto i : sel.test) EXPECT_EQ(folder_of(sel.examples[static_cast<std::size_t>(i)]), "nsynth-test");
  // Labels over the whole selection, as for the other splits (keyboard is only in test).
  EXPECT_EQ(sel.family_names, (std::vector<std::string>{"brass", "flute", "keyboard"}));
  // test_fraction, split_seed and test_order do not apply.
  auto other = config;
  other.test_fraction = 0.5;
  other.split_seed = 3;
  other.test_order = TestOrder::numpy;
  const auto same = select_examples(scan, other);
  EXPECT_EQ(same.train, sel.train);
  EXPECT_EQ(same.test, sel.test);

  // Subsample: drawn from the union in note_str order; every note keeps its folder.
  config.subsample = 4;
  const auto sub = select_examples(scan, config);
  ASSERT_EQ(sub.examples.size(), 4u);
  ASSERT_EQ(sub.train.size() + sub.test.size(), 4u);
  for (auto i : sub.train) EXPECT_EQ(folder_of(sub.examples[static_cast<std::size_t>(i)]), "nsynth-train");
  for (auto i : sub.test) EXPECT_EQ(folder_of(sub.examples[static_cast<std::size_t>(i)]), "nsynth-test");

  // A side left empty by the filters is an error naming it.
  config = DataConfig{};
  config.split = Split::official;
  config.exclude_families = {0, 1, 2, 6};  // only keyboard, only in nsynth-test
  expect_data_error([&] { select_examples(scan, config); },
                    {root.string() + ": data.split = \"official\": no nsynth-train notes left of 1"});
}

TEST(OfficialSplit, MissingFolderNamesRootAndFolder) {
  const auto root = test::scratch_dir("nsynth-official-missing");
  expect_data_error([&] { scan_official(root); },
                    {"data.root = " + root.string() + ": no nsynth-train and nsynth-test folder"});
  write_folder(root / "nsynth-train", official_train);
  write_folder(root / "nsynth-valid", official_valid);
  const auto msg = expect_data_error([&] { scan_data_root(DataConfig{.root = root, .split = Split::official}); },
                                     {"data.root = " + root.string() + ": no nsynth-test folder",
                                      "data.split = \"official\""});
  EXPECT_EQ(msg.find("no nsynth-train"), std::string::npos) << msg;
  // nsynth-valid is not needed.
  fs::remove_all(root / "nsynth-valid");
  write_folder(root / "nsynth-test", official_test);
  EXPECT_EQ(scan_official(root).examples.size(), 7u);
  // The other splits read data.root itself.
  expect_data_error([&] { scan_data_root(DataConfig{.root = root}); },
                    {(root / "examples.json").string(), "cannot open"});
}

TEST(OfficialSplit, NoteInTwoFoldersIsAnError) {
  const auto root = test::scratch_dir("nsynth-official-duplicate");
  write_folder(root / "nsynth-train", official_train);
  write_folder(root / "nsynth-test", {"keyboard_acoustic_005-060-100", "flute_acoustic_002-060-100"});
  expect_data_error([&] { scan_official(root); },
                    {"data.root = " + root.string(), "note 'flute_acoustic_002-060-100' is in both nsynth-train and "
                                                     "nsynth-test"});
}

}  // namespace
}  // namespace cfma::data
