#include "cfma/data/render.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>

#include <fluidsynth.h>
#include <sndfile.h>

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/error.hpp"
#include "cfma/core/log.hpp"
#include "cfma/data/example.hpp"
#include "cfma/data/gm_table.hpp"

namespace cfma::data {

namespace fs = std::filesystem;

RenderConfig default_render_config() {
  RenderConfig c;
  c.soundfont = "/usr/share/sounds/sf2/TimGM6mb.sf2";
  c.out = "data/nsynth";
  c.programs = {
      0,  1,  6,       // keyboard: acoustic grand, bright acoustic piano, harpsichord
      11, 12, 13,      // mallet: vibraphone, marimba, xylophone
      24, 25, 105,     // guitar: nylon, steel, banjo
      40, 42, 48,      // string: violin, cello, string ensemble 1
      56, 57, 60,      // brass: trumpet, trombone, french horn
      65, 68, 71,      // reed: alto sax, oboe, clarinet
      72, 73, 75,      // flute: piccolo, flute, pan flute
      52, 53,          // vocal: choir aahs, voice oohs (GM's only acoustic voices)
      32,              // bass: acoustic bass   } dropped by the default
      19, 20,          // organ: church, reed   } [data] exclude_families
  };
  c.pitch_step = 2;
  c.velocities = {25, 50, 75, 100, 127};
  c.velocities_per_pitch = 1;
  c.gain = 1.0;
  return c;
}

namespace {

// `fail(index, problem)`: index of the offending list element, or -1 for the whole list.
void check_programs(const std::vector<int>& programs, const std::function<void(int, const std::string&)>& fail) {
  if (programs.empty()) fail(-1, "no programs to render");
  for (std::size_t i = 0; i < programs.size(); ++i) {
    if (std::find(programs.begin(), programs.begin() + static_cast<std::ptrdiff_t>(i), programs[i]) !=
        programs.begin() + static_cast<std::ptrdiff_t>(i))
      fail(static_cast<int>(i), "program " + std::to_string(programs[i]) + " listed twice");
    if (!find_gm_instrument(programs[i]))
      fail(static_cast<int>(i), "GM program " + std::to_string(programs[i]) +
                                    " has no NSynth family (pads, effects and percussion are left out; see gm_table.cpp)");
  }
}

}  // namespace

RenderConfig parse_render_config(const ConfigDoc& doc) {
  const auto s = doc.section("render");
  RenderConfig c = default_render_config();
  c.soundfont = s.get_path("soundfont", c.soundfont);
  c.out = s.get_path("out", c.out);
  const std::vector<std::int64_t> fallback(c.programs.begin(), c.programs.end());
  const auto programs = s.get_int_list("programs", fallback, between(0, 127));
  c.programs.assign(programs.begin(), programs.end());
  c.pitch_step = static_cast<int>(s.get_int("pitch_step", c.pitch_step, between(1, 127)));
  const auto velocities = s.get_int_list(
      "velocities", std::vector<std::int64_t>(c.velocities.begin(), c.velocities.end()), between(1, 127));
  c.velocities.assign(velocities.begin(), velocities.end());
  c.velocities_per_pitch =
      static_cast<int>(s.get_int("velocities_per_pitch", c.velocities_per_pitch, between(1, 127)));
  c.gain = s.get_double("gain", c.gain, between(0.001, 10));
  c.sample_rate = static_cast<int>(s.get_int("sample_rate", c.sample_rate, between(8000, 96000)));
  c.note_seconds = s.get_double("note_seconds", c.note_seconds, greater_than(0));
  c.note_on_seconds = s.get_double("note_on_seconds", c.note_on_seconds, greater_than(0));
  c.silence_threshold = s.get_double("silence_threshold", c.silence_threshold, between(0, 1));
  check_programs(c.programs, [&](int index, const std::string& problem) {
    if (index < 0) s.fail("programs", problem);
    s.fail_element("programs", static_cast<std::size_t>(index), problem);
  });
  if (c.velocities.empty()) s.fail("velocities", "empty list");
  if (c.note_on_seconds > c.note_seconds) s.fail("note_on_seconds", "exceeds render.note_seconds");
  return c;
}

nlohmann::json to_json(const RenderConfig& c) {
  return {{"soundfont", c.soundfont.string()},
          {"out", c.out.string()},
          {"programs", c.programs},
          {"pitch_step", c.pitch_step},
          {"velocities", c.velocities},
          {"velocities_per_pitch", c.velocities_per_pitch},
          {"gain", c.gain},
          {"sample_rate", c.sample_rate},
          {"note_seconds", c.note_seconds},
          {"note_on_seconds", c.note_on_seconds},
          {"silence_threshold", c.silence_threshold}};
}

namespace {

struct SettingsDeleter {
  void operator()(fluid_settings_t* s) const { delete_fluid_settings(s); }
};
struct SynthDeleter {
  void operator()(fluid_synth_t* s) const { delete_fluid_synth(s); }
};

// fluidsynth prints to stderr by default; keep its errors in our log and drop the chatter.
void fluid_log_to_spdlog(int level, const char* message, void*) {
  if (level <= FLUID_ERR) spdlog::warn("fluidsynth: {}", message);
}

void quiet_fluidsynth_logging() {
  fluid_set_log_function(FLUID_PANIC, fluid_log_to_spdlog, nullptr);
  fluid_set_log_function(FLUID_ERR, fluid_log_to_spdlog, nullptr);
  fluid_set_log_function(FLUID_WARN, nullptr, nullptr);
  fluid_set_log_function(FLUID_INFO, nullptr, nullptr);
  fluid_set_log_function(FLUID_DBG, nullptr, nullptr);
}

// One synth for the whole render: loading the font is the expensive part (~0.1 s).
class NoteRenderer {
 public:
  explicit NoteRenderer(const RenderConfig& c) : config_(c) {
    quiet_fluidsynth_logging();
    settings_.reset(new_fluid_settings());
    if (!settings_) throw DataError("fluidsynth: cannot create settings");
    fluid_settings_setnum(settings_.get(), "synth.sample-rate", c.sample_rate);
    fluid_settings_setnum(settings_.get(), "synth.gain", c.gain);
    fluid_settings_setint(settings_.get(), "synth.reverb.active", 0);
    fluid_settings_setint(settings_.get(), "synth.chorus.active", 0);
    fluid_settings_setint(settings_.get(), "synth.cpu-cores", 1);
    synth_.reset(new_fluid_synth(settings_.get()));
    if (!synth_) throw DataError("fluidsynth: cannot create a synthesiser");
    if (!fs::is_regular_file(c.soundfont))
      throw DataError(c.soundfont.string() + ": SoundFont not found (render.soundfont)");
    font_id_ = fluid_synth_sfload(synth_.get(), c.soundfont.c_str(), 0);
    if (font_id_ == FLUID_FAILED)
      throw DataError(c.soundfont.string() + ": cannot load SoundFont (not an SF2 file?)");
  }

  bool has_program(int program) const {
    auto* font = fluid_synth_get_sfont_by_id(synth_.get(), font_id_);
    return font && fluid_sfont_get_preset(font, 0, program) != nullptr;
  }

  // Mono float samples of one note: reset, program, note on for note_on_seconds, off for the rest.
  std::vector<float> render(int program, int pitch, int velocity) {
    const auto total = static_cast<int>(std::lround(config_.note_seconds * config_.sample_rate));
    const auto on = static_cast<int>(std::lround(config_.note_on_seconds * config_.sample_rate));
    std::vector<float> left(static_cast<std::size_t>(total)), right(left.size());
    auto* synth = synth_.get();
    fluid_synth_system_reset(synth);
    // The reset only queues the voices' release; they become free once the mixer has run.
    // Render (and drop) a few blocks so every note starts from the same voice-slot state:
    // otherwise the summation order of a preset's layers, and so the last bit of the output,
    // depends on the note rendered before.
    fluid_synth_write_float(synth, kSettleFrames, settle_.data(), 0, 1, settle_.data(), 0, 1);
    if (fluid_synth_program_select(synth, 0, font_id_, 0, program) != FLUID_OK)
      throw DataError(config_.soundfont.string() + ": cannot select program " + std::to_string(program));
    fluid_synth_noteon(synth, 0, pitch, velocity);
    fluid_synth_write_float(synth, on, left.data(), 0, 1, right.data(), 0, 1);
    fluid_synth_noteoff(synth, 0, pitch);
    fluid_synth_write_float(synth, total - on, left.data(), on, 1, right.data(), on, 1);
    // Down-mix: the average keeps a centred voice at the level of one channel.
    std::vector<float> mono(left.size());
    for (std::size_t i = 0; i < mono.size(); ++i) mono[i] = 0.5f * (left[i] + right[i]);
    return mono;
  }

 private:
  static constexpr int kSettleFrames = 256;
  const RenderConfig& config_;
  std::vector<float> settle_ = std::vector<float>(kSettleFrames);
  std::unique_ptr<fluid_settings_t, SettingsDeleter> settings_;
  std::unique_ptr<fluid_synth_t, SynthDeleter> synth_;
  int font_id_ = -1;
};

// float -> PCM16 as the inverse of the reader's /32768 (libsndfile's own float->short
// conversion scales by 32767); returns how many samples clipped.
std::int64_t to_pcm16(const std::vector<float>& in, std::vector<short>& out) {
  out.resize(in.size());
  std::int64_t clipped = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const long v = std::lrint(static_cast<double>(in[i]) * 32768.0);
    if (v > 32767 || v < -32768) ++clipped;
    out[i] = static_cast<short>(std::clamp(v, -32768L, 32767L));
  }
  return clipped;
}

void write_wav_pcm16(const fs::path& file, const std::vector<short>& samples, int sample_rate) {
  SF_INFO info{};
  info.samplerate = sample_rate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(file.c_str(), SFM_WRITE, &info);
  if (!f) throw DataError(file.string() + ": cannot write wav: " + sf_strerror(nullptr));
  const auto n = static_cast<sf_count_t>(samples.size());
  const auto written = sf_writef_short(f, samples.data(), n);
  const std::string error = sf_strerror(f);
  if (sf_close(f) != 0 || written != n)
    throw DataError(file.string() + ": short write (" + error + ")");
}

std::string three_digits(int v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%03d", v);
  return buf;
}

// The files a previous render left: the index goes first, so no stale index survives.
void clear_previous_render(const fs::path& out) {
  fs::remove(out / "examples.json");
  if (!fs::is_directory(out / "audio")) return;
  std::vector<fs::path> stale;
  for (const auto& entry : fs::directory_iterator(out / "audio"))
    if (entry.path().extension() == ".wav") stale.push_back(entry.path());
  for (const auto& p : stale) fs::remove(p);
}

}  // namespace

std::vector<PlannedNote> plan_notes(const RenderConfig& config) {
  std::vector<PlannedNote> plan;
  const int n_velocities = static_cast<int>(config.velocities.size());
  if (n_velocities == 0 || config.pitch_step < 1) return plan;
  const int per_pitch = std::min(config.velocities_per_pitch, n_velocities);
  for (int program : config.programs) {
    const auto* gm = find_gm_instrument(program);
    if (!gm) continue;
    const std::string instrument_str = nsynth_family_names()[static_cast<std::size_t>(gm->family)] + "_" +
                                       nsynth_source_names()[static_cast<std::size_t>(gm->source)] + "_" +
                                       three_digits(program);
    int k = 0;
    for (int pitch = gm->lowest_pitch; pitch <= gm->highest_pitch; pitch += config.pitch_step, ++k) {
      for (int j = 0; j < per_pitch; ++j) {
        // Cycle through the velocities, offset per program so short ranges still vary.
        const int velocity =
            config.velocities[static_cast<std::size_t>((k * per_pitch + j + program) % n_velocities)];
        plan.push_back({program, pitch, velocity, instrument_str,
                        instrument_str + "-" + three_digits(pitch) + "-" + three_digits(velocity)});
      }
    }
  }
  return plan;
}

RenderSummary render_dataset(const RenderConfig& config) {
  const auto start = std::chrono::steady_clock::now();
  check_programs(config.programs, [&](int, const std::string& problem) {
    throw DataError(config.soundfont.string() + ": render: " + problem);
  });
  if (config.velocities.empty()) throw DataError("render: no velocities");
  if (config.pitch_step < 1) throw DataError("render: pitch_step must be >= 1");
  if (!(config.note_on_seconds > 0 && config.note_on_seconds <= config.note_seconds))
    throw DataError("render: need 0 < note_on_seconds <= note_seconds");

  NoteRenderer renderer(config);
  for (int p : config.programs)
    if (!renderer.has_program(p))
      throw DataError(config.soundfont.string() + ": no preset for GM program " + std::to_string(p) +
                      " (bank 0)");
  // The very first note of a new synth differs from later renderings of the same note in the
  // last bits (state fluidsynth initialises lazily); render one and drop it, so every note is
  // the same whatever was rendered before it (checked in tests/data/test_render.cpp).
  renderer.render(config.programs.front(), find_gm_instrument(config.programs.front())->lowest_pitch,
                  config.velocities.front());

  std::error_code ec;
  fs::create_directories(config.out / "audio", ec);
  if (ec) throw DataError((config.out / "audio").string() + ": cannot create folder: " + ec.message());
  clear_previous_render(config.out);

  RenderSummary summary;
  summary.out = config.out;
  nlohmann::json index = nlohmann::json::object();
  std::vector<short> pcm;
  for (const auto& planned : plan_notes(config)) {
    const auto& gm = *find_gm_instrument(planned.program);
    const auto samples = renderer.render(planned.program, planned.pitch, planned.velocity);
    float peak = 0;
    for (float x : samples) peak = std::max(peak, std::abs(x));
    if (!(peak >= config.silence_threshold) || peak == 0.0f) {
      ++summary.notes_silent;
      summary.silent_notes.push_back(planned.note_str);
      continue;
    }
    if (to_pcm16(samples, pcm) > 0) ++summary.notes_clipped;
    Example e;
    e.note = summary.notes_written;
    e.note_str = planned.note_str;
    e.instrument = planned.program;
    e.instrument_str = planned.instrument_str;
    e.pitch = planned.pitch;
    e.velocity = planned.velocity;
    e.sample_rate = config.sample_rate;
    e.instrument_source = gm.source;
    e.instrument_source_str = nsynth_source_names()[static_cast<std::size_t>(gm.source)];
    e.instrument_family = gm.family;
    e.instrument_family_str = nsynth_family_names()[static_cast<std::size_t>(gm.family)];
    // qualities stay all zero: NSynth's were annotated by people, not computed.
    write_wav_pcm16(config.out / "audio" / (e.note_str + ".wav"), pcm, config.sample_rate);
    index[e.note_str] = to_nsynth_json(e);
    ++summary.notes_written;
    ++summary.notes_per_family[e.instrument_family_str];
  }
  write_file_atomic(config.out / "examples.json", index.dump(2) + "\n");
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace cfma::data
