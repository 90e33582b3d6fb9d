#include "cfma/data/gm_table.hpp"

#include <algorithm>

namespace cfma::data {

// General MIDI (0-based programs) -> NSynth family / source / pitch range.
//
// family: the NSynth family whose definition the instrument fits (NSynth groups by how the
//   sound is produced: plucked strings -> guitar, bowed or ensemble strings and harp -> string,
//   tuned percussion -> mallet, double reeds, saxophones, clarinet, free reeds -> reed, ...).
// source: acoustic when the GM patch imitates an acoustic instrument, electronic for electric
//   instruments (electric piano, guitar, bass, drawbar organ), synthetic for synthesisers.
// range: the instrument's usual written range in MIDI pitches (piano 21-108, violin 55-100,
//   tuba 28-58, ...), inside NSynth's 9..120.
// Left out (no NSynth family): 55 Orchestra Hit, 88-103 pads and synth effects,
//   113-127 percussion and sound effects.
//
//  prog  name                      family      source      range
//     0  Acoustic Grand Piano      keyboard    acoustic    21-108
//     1  Bright Acoustic Piano     keyboard    acoustic    21-108
//     2  Electric Grand Piano      keyboard    electronic  21-108
//     3  Honky-tonk Piano          keyboard    acoustic    21-108
//     4  Electric Piano 1          keyboard    electronic  28-103
//     5  Electric Piano 2          keyboard    electronic  28-103
//     6  Harpsichord               keyboard    acoustic    29-89
//     7  Clavinet                  keyboard    electronic  29-89
//     8  Celesta                   keyboard    acoustic    60-108
//     9  Glockenspiel              mallet      acoustic    79-108
//    10  Music Box                 mallet      acoustic    60-96
//    11  Vibraphone                mallet      acoustic    53-89
//    12  Marimba                   mallet      acoustic    45-96
//    13  Xylophone                 mallet      acoustic    65-108
//    14  Tubular Bells             mallet      acoustic    60-77
//    15  Dulcimer                  mallet      acoustic    48-84
//    16  Drawbar Organ             organ       electronic  36-96
//    17  Percussive Organ          organ       electronic  36-96
//    18  Rock Organ                organ       electronic  36-96
//    19  Church Organ              organ       acoustic    24-96
//    20  Reed Organ                organ       acoustic    36-96
//    21  Accordion                 reed        acoustic    53-89
//    22  Harmonica                 reed        acoustic    60-84
//    23  Tango Accordion           reed        acoustic    53-89
//    24  Acoustic Guitar (nylon)   guitar      acoustic    40-83
//    25  Acoustic Guitar (steel)   guitar      acoustic    40-83
//    26  Electric Guitar (jazz)    guitar      electronic  40-86
//    27  Electric Guitar (clean)   guitar      electronic  40-86
//    28  Electric Guitar (muted)   guitar      electronic  40-86
//    29  Overdriven Guitar         guitar      electronic  40-86
//    30  Distortion Guitar         guitar      electronic  40-86
//    31  Guitar Harmonics          guitar      electronic  52-88
//    32  Acoustic Bass             bass        acoustic    28-55
//    33  Electric Bass (finger)    bass        electronic  28-60
//    34  Electric Bass (pick)      bass        electronic  28-60
//    35  Fretless Bass             bass        electronic  28-60
//    36  Slap Bass 1               bass        electronic  28-60
//    37  Slap Bass 2               bass        electronic  28-60
//    38  Synth Bass 1              bass        synthetic   24-60
//    39  Synth Bass 2              bass        synthetic   24-60
//    40  Violin                    string      acoustic    55-100
//    41  Viola                     string      acoustic    48-88
//    42  Cello                     string      acoustic    36-76
//    43  Contrabass                string      acoustic    28-60
//    44  Tremolo Strings           string      acoustic    36-96
//    45  Pizzicato Strings         string      acoustic    36-96
//    46  Orchestral Harp           string      acoustic    24-103
//    47  Timpani                   mallet      acoustic    40-57
//    48  String Ensemble 1         string      acoustic    28-96
//    49  String Ensemble 2         string      acoustic    28-96
//    50  Synth Strings 1           string      synthetic   36-96
//    51  Synth Strings 2           string      synthetic   36-96
//    52  Choir Aahs                vocal       acoustic    48-79
//    53  Voice Oohs                vocal       acoustic    48-79
//    54  Synth Voice               vocal       synthetic   48-84
//    56  Trumpet                   brass       acoustic    54-82
//    57  Trombone                  brass       acoustic    40-72
//    58  Tuba                      brass       acoustic    28-58
//    59  Muted Trumpet             brass       acoustic    54-82
//    60  French Horn               brass       acoustic    34-77
//    61  Brass Section             brass       acoustic    36-84
//    62  Synth Brass 1             brass       synthetic   36-84
//    63  Synth Brass 2             brass       synthetic   36-84
//    64  Soprano Sax               reed        acoustic    56-88
//    65  Alto Sax                  reed        acoustic    49-81
//    66  Tenor Sax                 reed        acoustic    44-76
//    67  Baritone Sax              reed        acoustic    36-69
//    68  Oboe                      reed        acoustic    58-91
//    69  English Horn              reed        acoustic    52-81
//    70  Bassoon                   reed        acoustic    34-75
//    71  Clarinet                  reed        acoustic    50-91
//    72  Piccolo                   flute       acoustic    74-108
//    73  Flute                     flute       acoustic    60-96
//    74  Recorder                  flute       acoustic    60-96
//    75  Pan Flute                 flute       acoustic    60-96
//    76  Blown Bottle              flute       acoustic    60-96
//    77  Shakuhachi                flute       acoustic    55-88
//    78  Whistle                   flute       acoustic    60-96
//    79  Ocarina                   flute       acoustic    60-84
//  80-87 Lead 1-8                  synth_lead  synthetic   36-96
//   104  Sitar                     guitar      acoustic    48-77
//   105  Banjo                     guitar      acoustic    48-84
//   106  Shamisen                  guitar      acoustic    50-79
//   107  Koto                      guitar      acoustic    55-84
//   108  Kalimba                   mallet      acoustic    48-84
//   109  Bagpipe                   reed        acoustic    60-84
//   110  Fiddle                    string      acoustic    55-96
//   111  Shanai                    reed        acoustic    60-84
//   112  Tinkle Bell               mallet      acoustic    72-96
namespace {

enum Family { bass, brass, flute, guitar, keyboard, mallet, organ, reed, string, synth_lead, vocal };
enum Source { acoustic, electronic, synthetic };

std::vector<GmInstrument> build_table() {
  return {
      {0, "Acoustic Grand Piano", keyboard, acoustic, 21, 108},
      {1, "Bright Acoustic Piano", keyboard, acoustic, 21, 108},
      {2, "Electric Grand Piano", keyboard, electronic, 21, 108},
      {3, "Honky-tonk Piano", keyboard, acoustic, 21, 108},
      {4, "Electric Piano 1", keyboard, electronic, 28, 103},
      {5, "Electric Piano 2", keyboard, electronic, 28, 103},
      {6, "Harpsichord", keyboard, acoustic, 29, 89},
      {7, "Clavinet", keyboard, electronic, 29, 89},
      {8, "Celesta", keyboard, acoustic, 60, 108},
      {9, "Glockenspiel", mallet, acoustic, 79, 108},
      {10, "Music Box", mallet, acoustic, 60, 96},
      {11, "Vibraphone", mallet, acoustic, 53, 89},
      {12, "Marimba", mallet, acoustic, 45, 96},
      {13, "Xylophone", mallet, acoustic, 65, 108},
      {14, "Tubular Bells", mallet, acoustic, 60, 77},
      {15, "Dulcimer", mallet, acoustic, 48, 84},
      {16, "Drawbar Organ", organ, electronic, 36, 96},
      {17, "Percussive Organ", organ, electronic, 36, 96},
      {18, "Rock Organ", organ, electronic, 36, 96},
      {19, "Church Organ", organ, acoustic, 24, 96},
      {20, "Reed Organ", organ, acoustic, 36, 96},
      {21, "Accordion", reed, acoustic, 53, 89},
      {22, "Harmonica", reed, acoustic, 60, 84},
      {23, "Tango Accordion", reed, acoustic, 53, 89},
      {24, "Acoustic Guitar (nylon)", guitar, acoustic, 40, 83},
      {25, "Acoustic Guitar (steel)", guitar, acoustic, 40, 83},
      {26, "Electric Guitar (jazz)", guitar, electronic, 40, 86},
      {27, "Electric Guitar (clean)", guitar, electronic, 40, 86},
      {28, "Electric Guitar (muted)", guitar, electronic, 40, 86},
      {29, "Overdriven Guitar", guitar, electronic, 40, 86},
      {30, "Distortion Guitar", guitar, electronic, 40, 86},
      {31, "Guitar Harmonics", guitar, electronic, 52, 88},
      {32, "Acoustic Bass", bass, acoustic, 28, 55},
      {33, "Electric Bass (finger)", bass, electronic, 28, 60},
      {34, "Electric Bass (pick)", bass, electronic, 28, 60},
      {35, "Fretless Bass", bass, electronic, 28, 60},
      {36, "Slap Bass 1", bass, electronic, 28, 60},
      {37, "Slap Bass 2", bass, electronic, 28, 60},
      {38, "Synth Bass 1", bass, synthetic, 24, 60},
      {39, "Synth Bass 2", bass, synthetic, 24, 60},
      {40, "Violin", string, acoustic, 55, 100},
      {41, "Viola", string, acoustic, 48, 88},
      {42, "Cello", string, acoustic, 36, 76},
      {43, "Contrabass", string, acoustic, 28, 60},
      {44, "Tremolo Strings", string, acoustic, 36, 96},
      {45, "Pizzicato Strings", string, acoustic, 36, 96},
      {46, "Orchestral Harp", string, acoustic, 24, 103},
      {47, "Timpani", mallet, acoustic, 40, 57},
      {48, "String Ensemble 1", string, acoustic, 28, 96},
      {49, "String Ensemble 2", string, acoustic, 28, 96},
      {50, "Synth Strings 1", string, synthetic, 36, 96},
      {51, "Synth Strings 2", string, synthetic, 36, 96},
      {52, "Choir Aahs", vocal, acoustic, 48, 79},
      {53, "Voice Oohs", vocal, acoustic, 48, 79},
      {54, "Synth Voice", vocal, synthetic, 48, 84},
      {56, "Trumpet", brass, acoustic, 54, 82},
      {57, "Trombone", brass, acoustic, 40, 72},
      {58, "Tuba", brass, acoustic, 28, 58},
      {59, "Muted Trumpet", brass, acoustic, 54, 82},
      {60, "French Horn", brass, acoustic, 34, 77},
      {61, "Brass Section", brass, acoustic, 36, 84},
      {62, "Synth Brass 1", brass, synthetic, 36, 84},
      {63, "Synth Brass 2", brass, synthetic, 36, 84},
      {64, "Soprano Sax", reed, acoustic, 56, 88},
      {65, "Alto Sax", reed, acoustic, 49, 81},
      {66, "Tenor Sax", reed, acoustic, 44, 76},
      {67, "Baritone Sax", reed, acoustic, 36, 69},
      {68, "Oboe", reed, acoustic, 58, 91},
      {69, "English Horn", reed, acoustic, 52, 81},
      {70, "Bassoon", reed, acoustic, 34, 75},
      {71, "Clarinet", reed, acoustic, 50, 91},
      {72, "Piccolo", flute, acoustic, 74, 108},
      {73, "Flute", flute, acoustic, 60, 96},
      {74, "Recorder", flute, acoustic, 60, 96},
      {75, "Pan Flute", flute, acoustic, 60, 96},
      {76, "Blown Bottle", flute, acoustic, 60, 96},
      {77, "Shakuhachi", flute, acoustic, 55, 88},
      {78, "Whistle", flute, acoustic, 60, 96},
      {79, "Ocarina", flute, acoustic, 60, 84},
      {80, "Lead 1 (square)", synth_lead, synthetic, 36, 96},
      {81, "Lead 2 (sawtooth)", synth_lead, synthetic, 36, 96},
      {82, "Lead 3 (calliope)", synth_lead, synthetic, 36, 96},
      {83, "Lead 4 (chiff)", synth_lead, synthetic, 36, 96},
      {84, "Lead 5 (charang)", synth_lead, synthetic, 36, 96},
      {85, "Lead 6 (voice)", synth_lead, synthetic, 36, 96},
      {86, "Lead 7 (fifths)", synth_lead, synthetic, 36, 96},
      {87, "Lead 8 (bass + lead)", synth_lead, synthetic, 36, 96},
      {104, "Sitar", guitar, acoustic, 48, 77},
      {105, "Banjo", guitar, acoustic, 48, 84},
      {106, "Shamisen", guitar, acoustic, 50, 79},
      {107, "Koto", guitar, acoustic, 55, 84},
      {108, "Kalimba", mallet, acoustic, 48, 84},
      {109, "Bagpipe", reed, acoustic, 60, 84},
      {110, "Fiddle", string, acoustic, 55, 96},
      {111, "Shanai", reed, acoustic, 60, 84},
      {112, "Tinkle Bell", mallet, acoustic, 72, 96},
  };
}

}  // namespace

const std::vector<GmInstrument>& gm_instruments() {
  static const std::vector<GmInstrument> table = build_table();
  return table;
}

const GmInstrument* find_gm_instrument(int program) {
  const auto& table = gm_instruments();
  const auto it = std::lower_bound(table.begin(), table.end(), program,
                                   [](const GmInstrument& g, int p) { return g.program < p; });
  return it != table.end() && it->program == program ? &*it : nullptr;
}

}  // namespace cfma::data
