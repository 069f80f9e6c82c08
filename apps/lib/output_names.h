// Names for the outputs of one `rtseg predict` run, one per input image, so that no output
// overwrites another: the file's stem where that is unique; where stems clash, the folders below
// the clashing files' common folder (s1/x, s2/x), and the extension where they share a folder too
// (a.jpg, a.png). A file given more than once (itself, in a folder and in a list) is predicted
// once.
#pragma once

#include <string>
#include <vector>

namespace rtseg::app {

struct NamedInputs {
  std::vector<std::string> files;  // the inputs without repeats, in the order given
  std::vector<std::string> names;  // by file: the output name, relative to the output folder
  std::vector<std::string> notes;  // one line per repeat or clash resolved, for the user
};

NamedInputs name_outputs(const std::vector<std::string>& files);

}  // namespace rtseg::app
