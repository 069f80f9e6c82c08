// PIDNet's boundary (edge) ground truth without OpenCV: the label-difference rule of
// docs/pidnet-s.md, "Boundary ground truth", which agrees with the authors' Canny recipe on ~99% of
// CamVid pixels.
//  1. seed(x, y) = 1 where label(x, y) differs from its right neighbour label(x+1, y) or its lower
//     neighbour label(x, y+1) (the ignore value counts as a label, as it does for Canny);
//  2. with frame > 0 (Cityscapes: 6) seeds within `frame` pixels of any border are cleared;
//  3. a 4×4 all-ones dilation with OpenCV's default anchor (2, 2): edge(x, y) = 1 iff a seed lies
//     in rows y−2..y+1 and columns x−2..x+1 (taps outside the map count as 0).
// The result holds 0/1 and is made on the full-size label before any augmentation; it then
// follows the label's geometry (nearest, padding 0).
#pragma once

#include "data/image.h"

namespace rtseg::data {

Label boundary_map(const Label& label, int frame = 0);

}  // namespace rtseg::data
