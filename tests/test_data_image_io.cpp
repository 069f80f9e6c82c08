// Image and label I/O: PNG/JPEG round trips, label PNGs keep their values (palette indices,
// 16-bit, 1/2/4-bit, interlaced), and every broken file is a DataError naming the file.
#include <cstring>

#include "data/png_codec.h"
#include "data/stb_codec.h"
#include "test_data_fixtures.h"

using namespace rtseg;
using namespace rtseg::data;
using rtseg::testing::TempDir;

namespace {

// A PNG written chunk by chunk from already-filtered scanlines, for layouts rtseg's encoder does
// not produce (low bit depths, interlacing).
std::vector<uint8_t> raw_png(int w, int h, int depth, int color_type, int interlace,
                             const std::vector<uint8_t>& scanlines,
                             const std::vector<png::Rgb>& palette = {}) {
  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  auto be32 = [](std::vector<uint8_t>& v, uint32_t x) {
    for (int s = 24; s >= 0; s -= 8) v.push_back(uint8_t(x >> s));
  };
  auto chunk = [&](const char* type, const std::vector<uint8_t>& data) {
    be32(out, uint32_t(data.size()));
    const size_t start = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data.begin(), data.end());
    be32(out, png::crc32(out.data() + start, data.size() + 4));
  };
  std::vector<uint8_t> ihdr;
  be32(ihdr, uint32_t(w));
  be32(ihdr, uint32_t(h));
  ihdr.insert(ihdr.end(), {uint8_t(depth), uint8_t(color_type), 0, 0, uint8_t(interlace)});
  chunk("IHDR", ihdr);
  if (!palette.empty()) {
    std::vector<uint8_t> plte;
    for (const png::Rgb& c : palette) plte.insert(plte.end(), c.begin(), c.end());
    chunk("PLTE", plte);
  }
  chunk("IDAT", stb::zlib_deflate(scanlines.data(), scanlines.size()));
  chunk("IEND", {});
  return out;
}

std::vector<uint8_t> png_bytes_of(const Image& image) { return encode_png(image); }

}  // namespace

TEST_CASE("PNG round trip: gray, RGB and RGBA decode to RGB", "[data][image_io]") {
  TempDir dir;
  const Image rgb = rtseg::testing::pattern_image(7, 5);
  write_png(dir.path("rgb.png"), rgb);
  const Image back = read_image(dir.path("rgb.png"));
  REQUIRE(back.width == 7);
  REQUIRE(back.height == 5);
  REQUIRE(back.channels == 3);
  REQUIRE(back.pixels == rgb.pixels);

  Image gray(4, 3, 1);
  for (size_t i = 0; i < gray.pixels.size(); ++i) gray.pixels[i] = uint8_t(20 * i);
  write_png(dir.path("gray.png"), gray);
  const Image gray_rgb = read_image(dir.path("gray.png"));
  REQUIRE(gray_rgb.channels == 3);
  for (size_t i = 0; i < gray.pixels.size(); ++i) {
    for (int c = 0; c < 3; ++c) REQUIRE(gray_rgb.pixels[3 * i + size_t(c)] == gray.pixels[i]);
  }
  REQUIRE(read_image(dir.path("gray.png"), 1).pixels == gray.pixels);

  Image rgba(2, 2, 4);
  rgba.pixels = {1, 2, 3, 0, 4, 5, 6, 255, 7, 8, 9, 128, 10, 11, 12, 1};
  write_png(dir.path("rgba.png"), rgba);
  const Image dropped = read_image(dir.path("rgba.png"));  // alpha dropped, not composited
  REQUIRE(dropped.pixels == std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
}

TEST_CASE("palette PNGs: images get the colours, labels keep the indices", "[data][image_io]") {
  TempDir dir;
  const std::vector<png::Rgb> palette = {{0, 0, 0}, {200, 10, 10}, {10, 200, 10}, {200, 10, 10}};
  // Entries 1 and 3 share a colour: only the index tells them apart.
  const Label label = rtseg::testing::make_label(3, 2, {0, 1, 2, 3, 3, 1});
  write_palette_png(dir.path("p.png"), label, palette);
  REQUIRE(rtseg::testing::label_values(read_label(dir.path("p.png"))) ==
          std::vector<int>{0, 1, 2, 3, 3, 1});
  const Image colours = read_image(dir.path("p.png"));
  REQUIRE(colours.at(1, 0, 0) == 200);
  REQUIRE(colours.at(2, 0, 1) == 200);
  REQUIRE(colours.at(0, 1, 0) == 200);  // index 3 → (200, 10, 10)
}

TEST_CASE("label PNGs keep 8-bit, 16-bit and low-bit-depth values", "[data][image_io]") {
  TempDir dir;
  const Label small = rtseg::testing::make_label(4, 2, {0, 7, 19, 255, 11, 254, 1, 0});
  write_label_png(dir.path("l8.png"), small);
  REQUIRE(rtseg::testing::label_values(read_label(dir.path("l8.png"))) ==
          rtseg::testing::label_values(small));

  const Label wide = rtseg::testing::make_label(3, 1, {300, 0, 32767});
  write_label_png(dir.path("l16.png"), wide, 16);
  REQUIRE(rtseg::testing::label_values(read_label(dir.path("l16.png"))) ==
          std::vector<int>{300, 0, 32767});
  REQUIRE_THROWS_AS(write_label_png(dir.path("bad.png"), wide, 8), Error);

  // 2-bit palette, 3×2: row bytes hold pixels MSB first: 00 01 10 | 11 10 01, filter 0.
  const std::vector<png::Rgb> pal = {{0, 0, 0}, {1, 1, 1}, {2, 2, 2}, {3, 3, 3}};
  const auto p2 = raw_png(3, 2, 2, png::Palette, 0, {0, 0b00011000, 0, 0b11100100}, pal);
  const Label l2 = decode_label(p2.data(), p2.size(), "p2.png");
  REQUIRE(rtseg::testing::label_values(l2) == std::vector<int>{0, 1, 2, 3, 2, 1});

  // 1-bit gray, 10×1: 1011001110 → bytes 10110011 10xxxxxx.
  const auto g1 = raw_png(10, 1, 1, png::Gray, 0, {0, 0b10110011, 0b10000000});
  REQUIRE(rtseg::testing::label_values(decode_label(g1.data(), g1.size(), "g1.png")) ==
          std::vector<int>{1, 0, 1, 1, 0, 0, 1, 1, 1, 0});
  // stb agrees (it scales 1-bit gray to 0/255).
  const Image g1_stb = decode_image(g1.data(), g1.size(), "g1.png", 1);
  REQUIRE(g1_stb.pixels[0] == 255);
  REQUIRE(g1_stb.pixels[1] == 0);
}

TEST_CASE("Adam7-interlaced label PNGs decode like stb decodes them", "[data][image_io]") {
  const int w = 11, h = 7;
  std::vector<uint8_t> values(size_t(w) * h);
  for (size_t i = 0; i < values.size(); ++i) values[i] = uint8_t(i * 37 % 251);
  // Interlace by the PNG spec's pass table; filter 0 on every row.
  const int passes[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                            {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
  std::vector<uint8_t> scan;
  for (const auto& p : passes) {
    for (int y = p[1]; y < h; y += p[3]) {
      if (p[0] >= w) break;
      scan.push_back(0);
      for (int x = p[0]; x < w; x += p[2]) scan.push_back(values[size_t(y) * w + size_t(x)]);
    }
  }
  const auto file = raw_png(w, h, 8, png::Gray, 1, scan);
  const Label mine = decode_label(file.data(), file.size(), "adam7.png");
  const Image theirs = decode_image(file.data(), file.size(), "adam7.png", 1);
  for (size_t i = 0; i < values.size(); ++i) {
    INFO("pixel " << i);
    REQUIRE(mine.values[i] == values[i]);
    REQUIRE(theirs.pixels[i] == values[i]);
  }
}

TEST_CASE("JPEG round trip through stb", "[data][image_io]") {
  TempDir dir;
  Image image(16, 16, 3);
  for (int y = 0; y < 16; ++y) {
    for (int x = 0; x < 16; ++x) {
      image.at(x, y, 0) = uint8_t(8 * x);
      image.at(x, y, 1) = uint8_t(8 * y);
      image.at(x, y, 2) = 100;
    }
  }
  write_jpeg(dir.path("a.jpg"), image, 95);
  const Image back = read_image(dir.path("a.jpg"));
  REQUIRE(back.width == 16);
  REQUIRE(back.height == 16);
  double error = 0;
  for (size_t i = 0; i < back.pixels.size(); ++i)
    error += std::abs(int(back.pixels[i]) - int(image.pixels[i]));
  REQUIRE(error / double(back.pixels.size()) < 4.0);  // lossy, but close on a smooth ramp
}

TEST_CASE("missing, empty, truncated and corrupt files are DataErrors naming the file",
          "[data][image_io][errors]") {
  using rtseg::testing::require_data_error;
  TempDir dir;
  const std::string missing = dir.path("nope/missing.png");
  require_data_error([&] { read_image(missing); }, DataErrorKind::MissingFile,
                     {missing, "cannot open"});
  require_data_error([&] { read_label(missing); }, DataErrorKind::MissingFile, {missing});
  require_data_error([&] { read_image(dir.root()); }, DataErrorKind::MissingFile,
                     {"is a directory"});

  const std::string empty = dir.write_bytes("empty.png", {});
  require_data_error([&] { read_image(empty); }, DataErrorKind::Corrupt, {empty, "empty file"});
  const std::string text = dir.write_text("notes.png", "this is not an image at all");
  require_data_error([&] { read_image(text); }, DataErrorKind::Corrupt,
                     {text, "not a PNG, JPEG or BMP"});

  // A PNG cut anywhere after its signature is caught by the chunk walk (no IEND / short chunk).
  const std::vector<uint8_t> png = png_bytes_of(rtseg::testing::pattern_image(20, 10));
  for (size_t cut :
       {size_t(8), size_t(20), size_t(40), png.size() / 2, png.size() - 12, png.size() - 1}) {
    INFO("cut at " << cut << " of " << png.size());
    const std::string p =
        dir.write_bytes("cut.png", std::vector<uint8_t>(png.begin(), png.begin() + ptrdiff_t(cut)));
    require_data_error([&] { read_image(p); }, DataErrorKind::Corrupt, {p, "truncated PNG"});
    require_data_error([&] { read_label(p); }, DataErrorKind::Corrupt, {p, "truncated PNG"});
  }
  // A flipped bit inside the image data: the CRC says so.
  std::vector<uint8_t> flipped = png;
  flipped[png.size() - 20] ^= 0x10;
  const std::string bad = dir.write_bytes("flipped.png", flipped);
  require_data_error([&] { read_image(bad); }, DataErrorKind::Corrupt, {bad, "CRC mismatch"});

  // JPEG: truncated (no end-of-image marker) and corrupt (garbage after the SOI marker).
  const std::vector<uint8_t> jpeg = encode_jpeg(rtseg::testing::pattern_image(32, 32), 90);
  for (size_t cut : {size_t(100), jpeg.size() * 2 / 3, jpeg.size() - 10, jpeg.size() - 1}) {
    INFO("cut at " << cut << " of " << jpeg.size());
    const std::string cut_jpeg = dir.write_bytes(
        "cut.jpg", std::vector<uint8_t>(jpeg.begin(), jpeg.begin() + ptrdiff_t(cut)));
    require_data_error([&] { read_image(cut_jpeg); }, DataErrorKind::Corrupt,
                       {cut_jpeg, "truncated JPEG"});
  }
  std::vector<uint8_t> garbage = jpeg;
  for (size_t i = 4; i < 40; ++i) garbage[i] = uint8_t(0xA5 ^ i);
  const std::string bad_jpeg = dir.write_bytes("bad.jpg", garbage);
  require_data_error([&] { read_image(bad_jpeg); }, DataErrorKind::Corrupt,
                     {bad_jpeg, "corrupt JPEG"});
}

TEST_CASE("labels must be single-channel PNGs", "[data][image_io][errors]") {
  using rtseg::testing::require_data_error;
  TempDir dir;
  const std::string rgb = dir.path("colour.png");
  write_png(rgb, rtseg::testing::pattern_image(4, 4));
  require_data_error([&] { read_label(rgb); }, DataErrorKind::Format, {rgb, "3 channels", "RGB"});
  const std::string jpg = dir.path("label.jpg");
  write_jpeg(jpg, rtseg::testing::pattern_image(8, 8));
  require_data_error([&] { read_label(jpg); }, DataErrorKind::Format, {jpg, "must be PNG", "JPEG"});
}

TEST_CASE("randomly damaged PNGs never crash the readers", "[data][image_io][fuzz]") {
  const std::vector<uint8_t> png = png_bytes_of(rtseg::testing::pattern_image(24, 9));
  Generator gen(7);
  int rejected = 0, accepted = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<uint8_t> bytes = png;
    const int edits = 1 + int(gen.randint(4));
    for (int e = 0; e < edits; ++e)
      bytes[size_t(gen.randint(int64_t(bytes.size())))] = uint8_t(gen.randint(256));
    if (gen.uniform() < 0.3) bytes.resize(size_t(gen.randint(int64_t(bytes.size()))));
    try {
      const Image image = decode_image(bytes.data(), bytes.size(), "fuzz.png");
      REQUIRE(image.pixels.size() == size_t(image.width) * image.height * 3);
      ++accepted;  // an edit that left the image valid (e.g. the same byte written back)
    } catch (const DataError&) {
      ++rejected;
    }
  }
  INFO(accepted << " accepted, " << rejected << " rejected");
  REQUIRE(rejected > 250);
}
