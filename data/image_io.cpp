#include "data/image_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "data/data_error.h"
#include "data/stb_codec.h"

namespace rtseg::data {

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

const char* format_name(FileFormat f) {
  switch (f) {
    case FileFormat::Png:
      return "PNG";
    case FileFormat::Jpeg:
      return "JPEG";
    case FileFormat::Bmp:
      return "BMP";
    case FileFormat::Unknown:
      return "unknown";
  }
  return "?";
}

// stb decodes truncated JPEGs without complaint (missing data reads as zeros, i.e. a grey
// smear), so completeness is checked here: the last scan (SOS, FF DA) must be followed by the
// end-of-image marker FF D9. Inside entropy-coded data every FF is stuffed (FF 00) or a restart
// marker (FF D0..D7), so an FF D9 there is the real end.
void check_jpeg_complete(const uint8_t* bytes, size_t size, const std::string& source) {
  size_t last_sos = 0;
  bool have_sos = false;
  for (size_t i = 2; i + 1 < size; ++i) {
    if (bytes[i] != 0xFF) continue;
    if (bytes[i + 1] == 0xDA) {
      last_sos = i;
      have_sos = true;
    }
  }
  if (!have_sos)
    data_fail(DataErrorKind::Corrupt,
              "{}: truncated JPEG: no image data (the SOS marker is missing)", source);
  for (size_t i = last_sos + 2; i + 1 < size; ++i) {
    if (bytes[i] == 0xFF && bytes[i + 1] == 0xD9) return;
  }
  data_fail(DataErrorKind::Corrupt,
            "{}: truncated JPEG: no end-of-image marker after the last scan", source);
}

}  // namespace

FileFormat sniff_format(const uint8_t* bytes, size_t size) {
  if (png::is_png(bytes, size)) return FileFormat::Png;
  if (size >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
    return FileFormat::Jpeg;
  if (size >= 2 && bytes[0] == 'B' && bytes[1] == 'M') return FileFormat::Bmp;
  return FileFormat::Unknown;
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    data_fail(DataErrorKind::MissingFile, "{}: is a directory, expected a file", path);
  }
  FilePtr f(std::fopen(path.c_str(), "rb"));
  if (!f) data_fail(DataErrorKind::MissingFile, "{}: cannot open: {}", path, std::strerror(errno));
  std::vector<uint8_t> bytes;
  uint8_t buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), f.get())) > 0)
    bytes.insert(bytes.end(), buffer, buffer + n);
  if (std::ferror(f.get()))
    data_fail(DataErrorKind::Corrupt, "{}: read error: {}", path, std::strerror(errno));
  return bytes;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  // Write beside the target and rename, so a crash never leaves a half-written file behind.
  const std::string temp = path + ".tmp";
  {
    FilePtr f(std::fopen(temp.c_str(), "wb"));
    if (!f) fail("{}: cannot create: {}", temp, std::strerror(errno));
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f.get()) != bytes.size()) {
      fail("{}: write failed: {}", temp, std::strerror(errno));
    }
    if (std::fflush(f.get()) != 0) fail("{}: write failed: {}", temp, std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) fail("{}: cannot rename {} into place: {}", path, temp, ec.message());
}

Image decode_image(const uint8_t* bytes, size_t size, const std::string& source, int channels) {
  RTSEG_CHECK(channels == 1 || channels == 3, "decode_image: channels must be 1 or 3, got {}",
              channels);
  if (size == 0) data_fail(DataErrorKind::Corrupt, "{}: empty file", source);
  const FileFormat format = sniff_format(bytes, size);
  switch (format) {
    case FileFormat::Png:
      png::parse(bytes, size, source);
      break;  // structure, CRCs, truncation
    case FileFormat::Jpeg:
      check_jpeg_complete(bytes, size, source);
      break;
    case FileFormat::Bmp:
      break;
    case FileFormat::Unknown:
      data_fail(DataErrorKind::Corrupt, "{}: not a PNG, JPEG or BMP image (unrecognised header)",
                source);
  }
  Image image;
  std::string reason;
  if (!stb::decode(bytes, size, channels, image, reason)) {
    data_fail(DataErrorKind::Corrupt, "{}: corrupt {}: {}", source, format_name(format), reason);
  }
  return image;
}

Image read_image(const std::string& path, int channels) {
  const std::vector<uint8_t> bytes = read_file(path);
  return decode_image(bytes.data(), bytes.size(), path, channels);
}

Label decode_label(const uint8_t* bytes, size_t size, const std::string& source) {
  if (size == 0) data_fail(DataErrorKind::Corrupt, "{}: empty file", source);
  const FileFormat format = sniff_format(bytes, size);
  if (format != FileFormat::Png) {
    data_fail(DataErrorKind::Format, "{}: label maps must be PNG files, this is {}", source,
              format_name(format));
  }
  png::Raw raw = png::decode_raw(bytes, size, source);
  const png::Header& h = raw.header;
  if (h.channels() != 1) {
    data_fail(
        DataErrorKind::Format,
        "{}: label PNG has {} channels ({}); expected one channel of class ids (gray or palette). "
        "Colour-coded labels need a dataset with a colour table",
        source, h.channels(),
        h.color_type == png::RGB    ? "RGB"
        : h.color_type == png::RGBA ? "RGBA"
                                    : "gray+alpha");
  }
  Label label(h.width, h.height);
  for (size_t i = 0; i < raw.samples.size(); ++i) {
    const uint16_t v = raw.samples[i];
    if (v > 32767) {
      data_fail(DataErrorKind::Value, "{}: label value {} exceeds the largest supported id 32767",
                source, v);
    }
    label.values[i] = int16_t(v);
  }
  return label;
}

Label read_label(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file(path);
  return decode_label(bytes.data(), bytes.size(), path);
}

std::vector<uint8_t> encode_png(const Image& image) {
  RTSEG_CHECK(image.channels == 1 || image.channels == 3 || image.channels == 4,
              "encode_png: {} channels; 1, 3 or 4 are supported", image.channels);
  RTSEG_CHECK(
      image.pixels.size() == static_cast<size_t>(image.width) * image.height * image.channels,
      "encode_png: {} bytes for a {}x{}x{} image", image.pixels.size(), image.width, image.height,
      image.channels);
  const png::ColorType type = image.channels == 1   ? png::Gray
                              : image.channels == 3 ? png::RGB
                                                    : png::RGBA;
  return png::encode(image.width, image.height, type, 8,
                     std::vector<uint16_t>(image.pixels.begin(), image.pixels.end()));
}

void write_png(const std::string& path, const Image& image) { write_file(path, encode_png(image)); }

std::vector<uint8_t> encode_jpeg(const Image& image, int quality) {
  RTSEG_CHECK(image.channels == 1 || image.channels == 3,
              "encode_jpeg: {} channels; 1 or 3 are supported", image.channels);
  RTSEG_CHECK(quality >= 1 && quality <= 100, "encode_jpeg: quality {} not in 1..100", quality);
  RTSEG_CHECK(
      !image.empty() && image.pixels.size() == size_t(image.width) * image.height * image.channels,
      "encode_jpeg: {} bytes for a {}x{}x{} image", image.pixels.size(), image.width, image.height,
      image.channels);
  std::vector<uint8_t> bytes = stb::encode_jpeg(image, quality);
  RTSEG_CHECK(!bytes.empty(), "encode_jpeg: the encoder failed for a {}x{} image", image.width,
              image.height);
  return bytes;
}

void write_jpeg(const std::string& path, const Image& image, int quality) {
  write_file(path, encode_jpeg(image, quality));
}

void write_label_png(const std::string& path, const Label& label, int bit_depth) {
  RTSEG_CHECK(bit_depth == 8 || bit_depth == 16,
              "write_label_png: bit depth must be 8 or 16, got {}", bit_depth);
  std::vector<uint16_t> samples(label.values.size());
  const int max_value = bit_depth == 8 ? 255 : 32767;
  for (size_t i = 0; i < samples.size(); ++i) {
    const int v = label.values[i];
    RTSEG_CHECK(v >= 0 && v <= max_value,
                "write_label_png: {}: value {} does not fit a {}-bit label PNG", path, v,
                bit_depth);
    samples[i] = uint16_t(v);
  }
  write_file(path, png::encode(label.width, label.height, png::Gray, bit_depth, samples));
}

void write_palette_png(const std::string& path, const Label& label,
                       const std::vector<png::Rgb>& palette) {
  std::vector<uint16_t> samples(label.values.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const int v = label.values[i];
    RTSEG_CHECK(v >= 0 && static_cast<size_t>(v) < palette.size(),
                "write_palette_png: {}: value {} has no palette entry ({} entries)", path, v,
                palette.size());
    samples[i] = uint16_t(v);
  }
  write_file(path, png::encode(label.width, label.height, png::Palette, 8, samples, palette));
}

}  // namespace rtseg::data
