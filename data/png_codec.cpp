#include "data/png_codec.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "data/data_error.h"
#include "data/stb_codec.h"

namespace rtseg::data::png {

namespace {

constexpr uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
// stb's limit as well; keeps width·height·channels far from overflowing.
constexpr int kMaxDimension = 1 << 24;
constexpr uint64_t kMaxSamples = uint64_t(1) << 31;

uint32_t load_be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

void store_be32(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(uint8_t(v >> 24));
  out.push_back(uint8_t(v >> 16));
  out.push_back(uint8_t(v >> 8));
  out.push_back(uint8_t(v));
}

bool valid_depth(int color_type, int depth) {
  switch (color_type) {
    case Gray:
      return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case Palette:
      return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case RGB:
    case GrayAlpha:
    case RGBA:
      return depth == 8 || depth == 16;
    default:
      return false;
  }
}

size_t row_bytes(const Header& h, int width) {
  return (static_cast<size_t>(width) * h.channels() * h.bit_depth + 7) / 8;
}

uint8_t paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return uint8_t(a);
  return pb <= pc ? uint8_t(b) : uint8_t(c);
}

// Undoes the filter of one row in place; `prev` is the previous unfiltered row (or zeros).
void unfilter_row(int filter, uint8_t* row, const uint8_t* prev, size_t n, size_t bpp,
                  const std::string& source) {
  switch (filter) {
    case 0:
      return;
    case 1:
      for (size_t i = bpp; i < n; ++i) row[i] = uint8_t(row[i] + row[i - bpp]);
      return;
    case 2:
      for (size_t i = 0; i < n; ++i) row[i] = uint8_t(row[i] + prev[i]);
      return;
    case 3:
      for (size_t i = 0; i < n; ++i) {
        const int left = i >= bpp ? row[i - bpp] : 0;
        row[i] = uint8_t(row[i] + ((left + prev[i]) >> 1));
      }
      return;
    case 4:
      for (size_t i = 0; i < n; ++i) {
        const int left = i >= bpp ? row[i - bpp] : 0, up_left = i >= bpp ? prev[i - bpp] : 0;
        row[i] = uint8_t(row[i] + paeth(left, prev[i], up_left));
      }
      return;
    default:
      data_fail(DataErrorKind::Corrupt, "{}: corrupt PNG: unknown row filter type {}", source,
                filter);
  }
}

uint16_t read_sample(const uint8_t* row, size_t index, int depth) {
  if (depth == 8) return row[index];
  if (depth == 16) return uint16_t((row[2 * index] << 8) | row[2 * index + 1]);
  const size_t bit = index * depth;
  const int shift = 8 - depth - int(bit % 8);
  return uint16_t((row[bit / 8] >> shift) & ((1 << depth) - 1));
}

}  // namespace

int Header::channels() const {
  switch (color_type) {
    case RGB:
      return 3;
    case GrayAlpha:
      return 2;
    case RGBA:
      return 4;
    default:
      return 1;
  }
}

uint32_t crc32(const uint8_t* bytes, size_t size, uint32_t crc) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

bool is_png(const uint8_t* bytes, size_t size) {
  return size >= 8 && std::memcmp(bytes, kSignature, 8) == 0;
}

Info parse(const uint8_t* bytes, size_t size, const std::string& source) {
  if (!is_png(bytes, size))
    data_fail(DataErrorKind::Corrupt, "{}: not a PNG file (bad signature)", source);
  Info info;
  bool have_header = false, have_end = false, have_idat = false;
  size_t pos = 8;
  while (pos < size) {
    if (size - pos < 12) {
      data_fail(DataErrorKind::Corrupt,
                "{}: truncated PNG: {} stray bytes at offset {} where a chunk should start", source,
                size - pos, pos);
    }
    const uint32_t length = load_be32(bytes + pos);
    const std::string type(reinterpret_cast<const char*>(bytes + pos + 4), 4);
    if (length > 0x7FFFFFFFu || length > size - pos - 12) {
      data_fail(DataErrorKind::Corrupt,
                "{}: truncated PNG: chunk '{}' at offset {} claims {} bytes, only {} remain",
                source, type, pos, length, size - pos - 12);
    }
    const uint8_t* data = bytes + pos + 8;
    const uint32_t stored_crc = load_be32(data + length);
    if (crc32(bytes + pos + 4, length + 4) != stored_crc) {
      data_fail(DataErrorKind::Corrupt, "{}: corrupt PNG: CRC mismatch in chunk '{}' at offset {}",
                source, type, pos);
    }
    if (!have_header && type != "IHDR") {
      data_fail(DataErrorKind::Corrupt, "{}: corrupt PNG: first chunk is '{}', not IHDR", source,
                type);
    }
    if (type == "IHDR") {
      if (have_header || length != 13)
        data_fail(DataErrorKind::Corrupt, "{}: corrupt PNG: bad IHDR chunk", source);
      Header& h = info.header;
      const uint32_t w = load_be32(data), hh = load_be32(data + 4);
      h.bit_depth = data[8];
      h.color_type = data[9];
      h.interlace = data[12];
      if (w == 0 || hh == 0 || w > uint32_t(kMaxDimension) || hh > uint32_t(kMaxDimension)) {
        data_fail(DataErrorKind::Corrupt, "{}: corrupt PNG: image size {}x{} is out of range",
                  source, w, hh);
      }
      h.width = int(w);
      h.height = int(hh);
      if (!valid_depth(h.color_type, h.bit_depth)) {
        data_fail(DataErrorKind::Corrupt,
                  "{}: corrupt PNG: colour type {} with bit depth {} is not allowed", source,
                  h.color_type, h.bit_depth);
      }
      if (data[10] != 0 || data[11] != 0 || h.interlace > 1) {
        data_fail(DataErrorKind::Corrupt,
                  "{}: corrupt PNG: unknown compression/filter/interlace method", source);
      }
      if (uint64_t(w) * hh * h.channels() > kMaxSamples) {
        data_fail(DataErrorKind::Format, "{}: PNG of {}x{} is too large to decode", source, w, hh);
      }
      have_header = true;
    } else if (type == "PLTE") {
      if (length % 3 != 0 || length == 0 || length > 768) {
        data_fail(DataErrorKind::Corrupt, "{}: corrupt PNG: PLTE chunk of {} bytes", source,
                  length);
      }
      info.palette.resize(length / 3);
      for (size_t i = 0; i < info.palette.size(); ++i) {
        info.palette[i] = {data[3 * i], data[3 * i + 1], data[3 * i + 2]};
      }
    } else if (type == "IDAT") {
      info.idat.insert(info.idat.end(), data, data + length);
      have_idat = true;
    } else if (type == "IEND") {
      have_end = true;
      break;  // bytes after IEND are ignored, as every decoder does
    } else if (!(type[0] & 0x20)) {
      data_fail(DataErrorKind::Corrupt, "{}: unsupported critical PNG chunk '{}'", source, type);
    }
    pos += 12 + length;
  }
  if (!have_end)
    data_fail(DataErrorKind::Corrupt, "{}: truncated PNG: the file ends before the IEND chunk",
              source);
  if (!have_idat)
    data_fail(DataErrorKind::Corrupt, "{}: corrupt PNG: no image data (IDAT)", source);
  if (info.header.color_type == Palette && info.palette.empty()) {
    data_fail(DataErrorKind::Corrupt, "{}: corrupt PNG: palette image without a PLTE chunk",
              source);
  }
  return info;
}

Raw decode_raw(const uint8_t* bytes, size_t size, const std::string& source) {
  Info info = parse(bytes, size, source);
  const Header& h = info.header;
  std::vector<uint8_t> data;
  if (!stb::zlib_inflate(info.idat.data(), info.idat.size(), data)) {
    data_fail(DataErrorKind::Corrupt, "{}: corrupt PNG: the compressed image data does not inflate",
              source);
  }
  Raw raw;
  raw.header = h;
  raw.palette = std::move(info.palette);
  const int channels = h.channels();
  raw.samples.resize(static_cast<size_t>(h.width) * h.height * channels);
  const size_t bpp = std::max<size_t>(1, size_t(channels) * h.bit_depth / 8);

  // Non-interlaced images are one pass covering everything; Adam7 has seven sub-images.
  struct Pass {
    int x0, y0, dx, dy;
  };
  static const Pass kWhole[] = {{0, 0, 1, 1}};
  static const Pass kAdam7[] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                                {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
  const Pass* passes = h.interlace ? kAdam7 : kWhole;
  const int num_passes = h.interlace ? 7 : 1;
  size_t pos = 0;
  for (int p = 0; p < num_passes; ++p) {
    const Pass& pass = passes[p];
    const int pw = (h.width - pass.x0 + pass.dx - 1) / pass.dx;
    const int ph = (h.height - pass.y0 + pass.dy - 1) / pass.dy;
    if (pw <= 0 || ph <= 0) continue;
    const size_t n = row_bytes(h, pw);
    std::vector<uint8_t> prev(n, 0);
    for (int y = 0; y < ph; ++y) {
      if (data.size() - pos < n + 1) {
        data_fail(DataErrorKind::Corrupt, "{}: truncated PNG: image data ends at row {} of {}",
                  source, pass.y0 + y * pass.dy, h.height);
      }
      const int filter = data[pos];
      uint8_t* row = data.data() + pos + 1;
      unfilter_row(filter, row, prev.data(), n, bpp, source);
      const int out_y = pass.y0 + y * pass.dy;
      uint16_t* out =
          raw.samples.data() + (static_cast<size_t>(out_y) * h.width + pass.x0) * channels;
      const size_t step = size_t(pass.dx) * channels;
      if (h.bit_depth == 8 && pass.dx == 1) {  // the common case: a straight widening copy
        std::copy(row, row + size_t(pw) * channels, out);
      } else {
        for (int x = 0; x < pw; ++x) {
          for (int c = 0; c < channels; ++c)
            out[size_t(x) * step + c] = read_sample(row, size_t(x) * channels + c, h.bit_depth);
        }
      }
      std::memcpy(prev.data(), row, n);
      pos += n + 1;
    }
  }
  if (h.color_type == Palette) {
    for (uint16_t v : raw.samples) {
      if (v >= raw.palette.size()) {
        data_fail(DataErrorKind::Corrupt,
                  "{}: corrupt PNG: palette index {} beyond the {} palette entries", source, v,
                  raw.palette.size());
      }
    }
  }
  return raw;
}

std::vector<uint8_t> encode(int width, int height, ColorType color_type, int bit_depth,
                            const std::vector<uint16_t>& samples, const std::vector<Rgb>& palette) {
  RTSEG_CHECK(width > 0 && height > 0, "png encode: image size {}x{} is empty", width, height);
  RTSEG_CHECK(bit_depth == 8 || (bit_depth == 16 && color_type == Gray),
              "png encode: bit depth {} is supported only for gray (8 for every colour type)",
              bit_depth);
  Header h;
  h.width = width;
  h.height = height;
  h.bit_depth = bit_depth;
  h.color_type = color_type;
  const int channels = h.channels();
  RTSEG_CHECK(samples.size() == static_cast<size_t>(width) * height * channels,
              "png encode: {} samples for {}x{}x{}", samples.size(), width, height, channels);
  if (color_type == Palette) {
    RTSEG_CHECK(!palette.empty() && palette.size() <= 256,
                "png encode: a palette needs 1..256 entries, got {}", palette.size());
    for (uint16_t v : samples) {
      RTSEG_CHECK(v < palette.size(), "png encode: index {} beyond the {} palette entries", v,
                  palette.size());
    }
  }
  const uint16_t max_value = bit_depth == 16 ? 0xFFFF : 0xFF;
  const size_t n = row_bytes(h, width), bpp = bit_depth == 16 ? 2 : size_t(channels);

  // Filter every row with the filter whose output has the smallest sum of |signed bytes|
  // (the usual heuristic; it makes label maps and photos compress well).
  std::vector<uint8_t> filtered;
  filtered.reserve((n + 1) * height);
  std::vector<uint8_t> prev(n, 0), row(n), candidate(n), best(n);
  for (int y = 0; y < height; ++y) {
    for (size_t i = 0; i < static_cast<size_t>(width) * channels; ++i) {
      const uint16_t v = samples[static_cast<size_t>(y) * width * channels + i];
      RTSEG_CHECK(v <= max_value, "png encode: sample value {} does not fit {} bits", v, bit_depth);
      if (bit_depth == 16) {
        row[2 * i] = uint8_t(v >> 8);
        row[2 * i + 1] = uint8_t(v);
      } else {
        row[i] = uint8_t(v);
      }
    }
    long best_cost = -1;
    int best_filter = 0;
    for (int f = 0; f < 5; ++f) {
      long cost = 0;
      for (size_t i = 0; i < n; ++i) {
        const int left = i >= bpp ? row[i - bpp] : 0, up = prev[i],
                  up_left = i >= bpp ? prev[i - bpp] : 0;
        int pred = 0;
        if (f == 1) pred = left;
        if (f == 2) pred = up;
        if (f == 3) pred = (left + up) >> 1;
        if (f == 4) pred = paeth(left, up, up_left);
        candidate[i] = uint8_t(row[i] - pred);
        cost += std::abs(int(int8_t(candidate[i])));
      }
      if (best_cost < 0 || cost < best_cost) {
        best_cost = cost;
        best_filter = f;
        best.swap(candidate);
      }
    }
    filtered.push_back(uint8_t(best_filter));
    filtered.insert(filtered.end(), best.begin(), best.end());
    prev.swap(row);
  }
  const std::vector<uint8_t> zdata = stb::zlib_deflate(filtered.data(), filtered.size());

  std::vector<uint8_t> out(kSignature, kSignature + 8);
  auto chunk = [&out](const char* type, const std::vector<uint8_t>& payload) {
    store_be32(out, uint32_t(payload.size()));
    const size_t start = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), payload.begin(), payload.end());
    store_be32(out, crc32(out.data() + start, payload.size() + 4));
  };
  std::vector<uint8_t> ihdr;
  store_be32(ihdr, uint32_t(width));
  store_be32(ihdr, uint32_t(height));
  ihdr.insert(ihdr.end(), {uint8_t(bit_depth), uint8_t(color_type), 0, 0, 0});
  chunk("IHDR", ihdr);
  if (color_type == Palette) {
    std::vector<uint8_t> plte;
    for (const Rgb& c : palette) plte.insert(plte.end(), c.begin(), c.end());
    chunk("PLTE", plte);
  }
  chunk("IDAT", zdata);
  chunk("IEND", {});
  return out;
}

}  // namespace rtseg::data::png
