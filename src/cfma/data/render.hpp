#pragma once
// A NSynth-like dataset rendered from a General MIDI SoundFont (libfluidsynth), written in
// NSynth's jsonwav layout so the same reader serves both:
//   <out>/examples.json, <out>/audio/<family>_<source>_<program 3 digits>-<pitch>-<velocity>.wav
// NSynth protocol: 16 kHz mono PCM16, 4 s per note (note on for 3 s, off for 1 s), velocities
// from {25, 50, 75, 100, 127}, pitches inside each instrument's range (gm_table.cpp), notes
// whose peak stays below a threshold skipped. Reverb and chorus off; system reset and program
// change before every note, so a note's samples do not depend on the notes rendered before it.
// Same inputs -> byte-identical files.
//
// [render] keys (defaults = default_render_config()):
//   soundfont            SoundFont file (TimGM6mb from Debian's timgm6mb-soundfont)
//   out                  output folder
//   programs             GM programs (0-based) to render; each needs an entry in gm_table
//   pitch_step           render every k-th pitch of an instrument's range, from its lowest
//   velocities           velocities to draw from
//   velocities_per_pitch how many velocities per pitch (cycled through `velocities`, offset by
//                        program, so each instrument covers all of them); len(velocities) = all
//   gain                 synth.gain (fluidsynth's default 0.2 is very quiet)
//   sample_rate          Hz (16000)
//   note_seconds         note length (4.0); note_on_seconds: held for (3.0)
//   silence_threshold    skip notes whose absolute peak is below this (float scale, 1 = full)
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfma/core/config.hpp"

namespace cfma::data {

struct RenderConfig {
  std::filesystem::path soundfont;
  std::filesystem::path out;
  std::vector<int> programs;
  int pitch_step = 1;
  std::vector<int> velocities;
  int velocities_per_pitch = 1;
  double gain = 1.0;
  int sample_rate = 16000;
  double note_seconds = 4.0;
  double note_on_seconds = 3.0;
  double silence_threshold = 1e-3;
};

// The demo dataset: the paper's 8 families (brass, flute, guitar, keyboard, mallet, reed,
// string, vocal) with 2-3 acoustic GM instruments each, plus bass and organ instruments that
// [data] exclude_families drops; every 2nd pitch, one velocity per pitch: ~600 notes.
RenderConfig default_render_config();
RenderConfig parse_render_config(const ConfigDoc& doc);
nlohmann::json to_json(const RenderConfig& c);

// One note to render, in render order (program as listed, pitch ascending, velocities).
struct PlannedNote {
  int program = 0;
  int pitch = 0;
  int velocity = 0;
  std::string instrument_str;  // <family>_<source>_<program 3 digits>
  std::string note_str;        // <instrument_str>-<pitch 3 digits>-<velocity 3 digits>
};
// The notes render_dataset() will try (before the silence check); programs without a GM
// table entry are left out (render_dataset rejects them).
std::vector<PlannedNote> plan_notes(const RenderConfig& config);

struct RenderSummary {
  std::filesystem::path out;
  std::int64_t notes_written = 0;
  std::int64_t notes_silent = 0;   // skipped: peak below silence_threshold
  std::int64_t notes_clipped = 0;  // written, but some samples clipped at full scale
  std::map<std::string, std::int64_t> notes_per_family;
  std::vector<std::string> silent_notes;  // note_str of the skipped notes
  double seconds = 0;
};

// Renders every (program, pitch, velocity) of the config into config.out. Existing
// <out>/examples.json and <out>/audio/*.wav are replaced; examples.json is written last
// (atomically), so an interrupted render never leaves an index pointing at missing files.
// Throws DataError for an unreadable SoundFont or a program the SoundFont lacks.
RenderSummary render_dataset(const RenderConfig& config);

}  // namespace cfma::data
