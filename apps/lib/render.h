// What people look at: predictions coloured with the dataset's palette, blended over the input
// image, with a legend of the classes that occur.
#pragma once

#include <string>
#include <vector>

#include "data/dataset.h"

namespace rtseg::app {

// Class ids → palette colours (ignore / unknown ids black).
data::Image colourize(const data::Label& classes, const std::vector<data::png::Rgb>& palette);
// (1 − alpha)·image + alpha·colours, per pixel; equal sizes, 3 channels.
data::Image overlay(const data::Image& image, const data::Image& colours, double alpha);
// The image with a strip below it (as wide as the image) naming, in the built-in pixel font,
// every class that occurs in `classes`, each beside its colour.
data::Image with_legend(const data::Image& image, const data::Label& classes,
                        const std::vector<std::string>& names,
                        const std::vector<data::png::Rgb>& palette);

// What `predict` and `eval --examples` write: the prediction's colours blended over the image
// (alpha = opacity of the colours), with the legend strip when `legend`.
data::Image prediction_overlay(const data::Image& image, const data::Label& prediction,
                               const data::DatasetInfo& info, double alpha, bool legend);

}  // namespace rtseg::app
