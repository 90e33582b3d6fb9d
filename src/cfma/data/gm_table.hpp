#pragma once
// General MIDI programs -> NSynth family, source and a playable pitch range (the table itself,
// with the reasoning behind it, is in gm_table.cpp).
#include <string>
#include <vector>

namespace cfma::data {

struct GmInstrument {
  int program = 0;        // GM program, 0-based (0 = Acoustic Grand Piano)
  std::string name;       // GM name
  int family = 0;         // NSynth family code (see nsynth_family_names)
  int source = 0;         // NSynth source code: 0 acoustic, 1 electronic, 2 synthetic
  int lowest_pitch = 0;   // MIDI pitch range rendered (inclusive), the instrument's usual range
  int highest_pitch = 0;
};

// Every GM program that maps to an NSynth family, ascending by program.
const std::vector<GmInstrument>& gm_instruments();
// The entry of `program`, or nullptr when the program has no NSynth family (pads, effects,
// percussion, orchestra hit).
const GmInstrument* find_gm_instrument(int program);

}  // namespace cfma::data
