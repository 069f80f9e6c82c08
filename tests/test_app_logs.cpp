// Training logs: the TensorBoard event file (CRC-32C against the RFC 3720 vectors, TFRecord
// framing read back with both CRCs checked, the Event/Summary protobuf decoded by hand), CSV logs
// that a resumed run trims, the PNG curve plot, the rasteriser and the progress line.
#include <cstring>
#include <sstream>

#include "apps/lib/csv_log.h"
#include "apps/lib/plot.h"
#include "apps/lib/progress.h"
#include "apps/lib/raster.h"
#include "apps/lib/render.h"
#include "apps/lib/tensorboard.h"
#include "test_data_fixtures.h"

using namespace rtseg;
using namespace rtseg::app;
using namespace rtseg::testing;

namespace {

// A minimal protobuf reader for the checks: (field, wire type, value or bytes).
struct Field {
  int number = 0, wire = 0;
  uint64_t value = 0;  // varint / fixed
  std::string bytes;   // length-delimited
};

std::vector<Field> decode(const std::string& msg) {
  std::vector<Field> out;
  size_t pos = 0;
  auto varint = [&] {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      REQUIRE(pos < msg.size());
      const uint8_t b = uint8_t(msg[pos++]);
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  };
  auto fixed = [&](int n) {
    REQUIRE(pos + size_t(n) <= msg.size());
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= uint64_t(uint8_t(msg[pos + size_t(i)])) << (8 * i);
    pos += size_t(n);
    return v;
  };
  while (pos < msg.size()) {
    const uint64_t key = varint();
    Field f;
    f.number = int(key >> 3);
    f.wire = int(key & 7);
    if (f.wire == 0)
      f.value = varint();
    else if (f.wire == 1)
      f.value = fixed(8);
    else if (f.wire == 5)
      f.value = fixed(4);
    else if (f.wire == 2) {
      const size_t n = size_t(varint());
      REQUIRE(pos + n <= msg.size());
      f.bytes = msg.substr(pos, n);
      pos += n;
    } else {
      FAIL("unexpected wire type " << f.wire);
    }
    out.push_back(f);
  }
  return out;
}

double as_double(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}
float as_float(uint64_t bits) {
  const uint32_t b = uint32_t(bits);
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

}  // namespace

TEST_CASE("tensorboard: CRC-32C matches the RFC 3720 test vectors", "[app][tensorboard]") {
  REQUIRE(crc32c("123456789", 9) == 0xE3069283u);
  std::vector<uint8_t> bytes(32, 0);
  REQUIRE(crc32c(bytes.data(), 32) == 0x8A9136AAu);
  std::fill(bytes.begin(), bytes.end(), 0xFF);
  REQUIRE(crc32c(bytes.data(), 32) == 0x62A8AB43u);
  for (int i = 0; i < 32; ++i) bytes[size_t(i)] = uint8_t(i);
  REQUIRE(crc32c(bytes.data(), 32) == 0x46DD794Eu);
  // The mask TFRecord uses: rotate right by 15, add a constant.
  const uint32_t crc = crc32c("123456789", 9);
  REQUIRE(masked_crc32c("123456789", 9) == uint32_t(((crc >> 15) | (crc << 17)) + 0xa282ead8u));
}

TEST_CASE("tensorboard: the event file is TFRecords of Event messages", "[app][tensorboard]") {
  TempDir dir;
  std::string path;
  {
    EventFileWriter w(dir.root());
    path = w.path();
    w.add_scalar("train/loss", 1.25, 10);
    w.add_scalar("val/mIoU", 0.5, 20);
  }
  REQUIRE(std::filesystem::path(path).filename().string().rfind("events.out.tfevents.", 0) == 0);
  const std::vector<std::string> records = read_tfrecords(path);
  REQUIRE(records.size() == 3);

  const auto version = decode(records[0]);
  REQUIRE(version.size() == 2);
  REQUIRE(version[0].number == 1);  // wall_time, fixed64 double
  REQUIRE(version[0].wire == 1);
  REQUIRE(as_double(version[0].value) > 1.5e9);
  REQUIRE(version[1].number == 3);  // file_version
  REQUIRE(version[1].bytes == "brain.Event:2");

  const auto event = decode(records[1]);
  REQUIRE(event.size() == 3);
  REQUIRE(event[1].number == 2);  // step, varint
  REQUIRE(event[1].wire == 0);
  REQUIRE(event[1].value == 10);
  REQUIRE(event[2].number == 5);  // summary
  const auto summary = decode(event[2].bytes);
  REQUIRE(summary.size() == 1);
  REQUIRE(summary[0].number == 1);  // repeated Value
  const auto value = decode(summary[0].bytes);
  REQUIRE(value.size() == 2);
  REQUIRE(value[0].number == 1);
  REQUIRE(value[0].bytes == "train/loss");
  REQUIRE(value[1].number == 2);  // simple_value, fixed32 float
  REQUIRE(value[1].wire == 5);
  REQUIRE(as_float(value[1].value) == 1.25f);
  REQUIRE(as_float(decode(decode(decode(records[2])[2].bytes)[0].bytes)[1].value) == 0.5f);

  // The framing of one record, byte by byte: length, masked CRC of the length, data, masked CRC.
  const std::string rec = tfrecord("abc");
  REQUIRE(rec.size() == 8 + 4 + 3 + 4);
  REQUIRE(rec.substr(0, 8) == std::string("\x03\0\0\0\0\0\0\0", 8));
  uint32_t length_crc, data_crc;
  std::memcpy(&length_crc, rec.data() + 8, 4);
  std::memcpy(&data_crc, rec.data() + 15, 4);
  REQUIRE(length_crc == masked_crc32c(rec.data(), 8));
  REQUIRE(data_crc == masked_crc32c("abc", 3));

  // Damage is detected: a flipped data byte, a cut-off record.
  auto bytes = data::read_file(path);
  bytes[bytes.size() - 6] ^= 0x40;
  data::write_file(dir.path("bad_crc"), bytes);
  require_error([&] { read_tfrecords(dir.path("bad_crc")); }, "record 2 has a bad data CRC");
  bytes.resize(bytes.size() - 3);
  data::write_file(dir.path("cut"), bytes);
  require_error([&] { read_tfrecords(dir.path("cut")); }, "record 2 is truncated");
}

TEST_CASE("csv log: header, quoting, and a resumed run keeps rows up to its iteration",
          "[app][logs]") {
  TempDir dir;
  const std::string path = dir.path("train_log.csv");
  {
    CsvLog log(path, {"iteration", "loss", "note"});
    log.row({"10", "1.5", "a,b"});
    log.row({"20", "1.2", "say \"hi\""});
    log.row({"30", "1.0", ""});
    require_error([&] { log.row({"40"}); }, "a row of 1 values for 3 columns");
  }
  auto rows = read_csv(path);
  REQUIRE(rows.size() == 4);
  REQUIRE(rows[1] == std::vector<std::string>{"10", "1.5", "a,b"});
  REQUIRE(rows[2][2] == "say \"hi\"");
  {
    CsvLog resumed(path, {"iteration", "loss", "note"}, 20);  // checkpoint at iteration 20
    resumed.row({"30", "0.9", "again"});
  }
  rows = read_csv(path);
  REQUIRE(rows.size() == 4);
  REQUIRE(rows[3] == std::vector<std::string>{"30", "0.9", "again"});
  {
    CsvLog other(path, {"iteration", "mIoU"}, 20);  // other columns: the old file is set aside
  }
  REQUIRE(read_csv(path).size() == 1);
  REQUIRE(read_csv(path + ".old").size() == 4);
  REQUIRE(csv_number(0.125) == "0.125");
  REQUIRE(csv_number(NAN) == "nan");
}

TEST_CASE("plot: the training curves are a valid PNG with both curves drawn", "[app][plot]") {
  TempDir dir;
  const std::string train = dir.write_text(
      "train_log.csv", "iteration,epoch,lr,loss\n10,0,0.1,2.5\n20,0,0.1,1.5\n30,0,0.1,1.0\n");
  const std::string val =
      dir.write_text("val_log.csv", "iteration,epoch,mIoU\n15,0,0.1\n30,0,0.4\n");
  const std::string png = dir.path("curves.png");
  write_training_curves(png, train, val);
  const auto bytes = data::read_file(png);
  REQUIRE(bytes.size() > 8);
  REQUIRE(std::memcmp(bytes.data(), "\x89PNG\r\n\x1a\n", 8) == 0);
  const data::Image image = data::read_image(png);  // decodes: a valid PNG
  REQUIRE(image.width == 800);
  REQUIRE(image.height == 600);
  size_t loss_pixels = 0, miou_pixels = 0;
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      const bool loss =
          image.at(x, y, 0) == 200 && image.at(x, y, 1) == 60 && image.at(x, y, 2) == 40;
      const bool miou =
          image.at(x, y, 0) == 30 && image.at(x, y, 1) == 90 && image.at(x, y, 2) == 200;
      if (loss) {
        ++loss_pixels;
        REQUIRE(y < 300);  // the loss panel is on top
      }
      if (miou) {
        ++miou_pixels;
        REQUIRE(y >= 300);
      }
    }
  }
  REQUIRE(loss_pixels > 500);  // a 2-pixel line across the panel
  REQUIRE(miou_pixels > 500);
  // Missing logs give empty panels, not an error.
  write_training_curves(png, dir.path("none.csv"), dir.path("none2.csv"));
  REQUIRE(data::read_image(png).width == 800);
}

TEST_CASE("raster: lines reach both ends, text draws glyph pixels", "[app][plot]") {
  Canvas c(20, 10, {0, 0, 0});
  c.line(1, 1, 18, 8, {255, 0, 0});
  REQUIRE(c.get(1, 1).r == 255);
  REQUIRE(c.get(18, 8).r == 255);
  REQUIRE(c.get(18, 1).r == 0);
  c.line(-5, 5, 30, 5, {0, 255, 0}, 3);  // clipped, 3 pixels thick
  REQUIRE(c.get(0, 4).g == 255);
  REQUIRE(c.get(19, 6).g == 255);
  REQUIRE(c.get(10, 3).g == 0);
  Canvas t(12, 7, {0, 0, 0});
  t.text(0, 0, "1", {9, 9, 9});
  // '1' is 0x04, 0x0C, 0x04 ...: the middle column of the first row is set, its corner is not.
  REQUIRE(t.get(2, 0).r == 9);
  REQUIRE(t.get(0, 0).r == 0);
  REQUIRE(Canvas::text_width("ab") == 11);
}

TEST_CASE("render: overlay blends, the legend names the classes present", "[app][plot]") {
  data::Image image(4, 2, 3, 100);
  data::Label classes(4, 2, 1);
  classes.at(0, 0) = 0;
  const std::vector<data::png::Rgb> palette{{0, 0, 0}, {200, 0, 50}};
  const data::Image colours = colourize(classes, palette);
  REQUIRE(colours.at(1, 0, 0) == 200);
  const data::Image blended = overlay(image, colours, 0.5);
  REQUIRE(blended.at(1, 0, 0) == 150);
  REQUIRE(blended.at(1, 0, 1) == 50);
  REQUIRE(blended.at(0, 0, 0) == 50);
  require_error([&] { overlay(image, data::Image(3, 2, 3), 0.5); },
                "overlay: image 4x2x3 and colours 3x2x3 differ");
  const data::Image legend = with_legend(blended, classes, {"road", "car"}, palette);
  REQUIRE(legend.width == 4);
  REQUIRE(legend.height > 2 + 10);     // a row of entries below the image
  REQUIRE(legend.at(1, 0, 0) == 150);  // the image is kept at the top
}

TEST_CASE("progress: the line and durations", "[app][progress]") {
  Progress p;
  p.iteration = 120;
  p.total = 1000;
  p.epoch = 3;
  p.lr = 0.00462;
  p.losses = {{"loss", 1.5}, {"ce", 1.0}, {"aux", 0.5}};
  p.images_per_second = 12.34;
  p.eta_seconds = 83;
  REQUIRE(format_progress(p) ==
          "it 120/1000  ep 3  lr 4.620e-03  loss 1.5000 (ce 1.0000, aux 0.5000)  12.3 img/s  eta "
          "01:23");
  REQUIRE(format_duration(42) == "42s");
  REQUIRE(format_duration(3723) == "1:02:03");
  REQUIRE(format_duration(2 * 86400 + 3 * 3600 + 4 * 60 + 5) == "2d 03:04:05");
  REQUIRE(format_duration(NAN) == "--");

  std::ostringstream plain, tty;
  {
    ProgressPrinter printer(plain, false, 10);
    for (int i = 1; i <= 25; ++i) {
      p.iteration = i;
      printer.update(p);
    }
    printer.message("val: mIoU 50");
  }
  // Not a terminal: a plain line every 10 iterations.
  REQUIRE(plain.str().find("it 10/1000") != std::string::npos);
  REQUIRE(plain.str().find("it 20/1000") != std::string::npos);
  REQUIRE(plain.str().find("it 11/1000") == std::string::npos);
  REQUIRE(plain.str().find('\r') == std::string::npos);
  {
    ProgressPrinter printer(tty, true, 10);
    p.iteration = 3;
    printer.update(p);
    printer.message("val: mIoU 50");
  }
  // A terminal: redrawn in place, a message clears the line, the line comes back after it.
  REQUIRE(tty.str().rfind("\rit 3/1000", 0) == 0);
  REQUIRE(tty.str().find("\r\033[Kval: mIoU 50\nit 3/1000") != std::string::npos);
}
