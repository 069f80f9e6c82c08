// Shared by the data-pipeline tests: a temporary folder that removes itself, small images and
// label maps with known contents, and where the real CamVid lives (../shared/data/camvid).
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "data/data_error.h"
#include "data/image_io.h"
#include "test_support.h"

namespace rtseg::testing {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    root_ = std::filesystem::temp_directory_path() /
            ("rtseg_data_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string root() const { return root_.string(); }
  // Absolute path of `relative`, creating its parent folders.
  std::string path(const std::string& relative) const {
    const std::filesystem::path p = root_ / relative;
    std::filesystem::create_directories(p.parent_path());
    return p.string();
  }
  std::string write_text(const std::string& relative, const std::string& text) const {
    const std::string p = path(relative);
    std::ofstream(p) << text;
    return p;
  }
  std::string write_bytes(const std::string& relative, const std::vector<uint8_t>& bytes) const {
    const std::string p = path(relative);
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    return p;
  }

 private:
  std::filesystem::path root_;
};

// An RGB image whose pixel (x, y) is (10x + y, 3y + 1, x ^ y) mod 256: every pixel differs.
inline data::Image pattern_image(int width, int height) {
  data::Image image(width, height, 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      image.at(x, y, 0) = uint8_t(10 * x + y);
      image.at(x, y, 1) = uint8_t(3 * y + 1);
      image.at(x, y, 2) = uint8_t(x ^ y);
    }
  }
  return image;
}

inline data::Label make_label(int width, int height, const std::vector<int>& values) {
  data::Label label(width, height);
  REQUIRE(values.size() == label.values.size());
  for (size_t i = 0; i < values.size(); ++i) label.values[i] = int16_t(values[i]);
  return label;
}

inline std::vector<int> label_values(const data::Label& label) {
  return std::vector<int>(label.values.begin(), label.values.end());
}

// Expects `body` to throw a DataError of `kind` whose message contains every fragment.
template <typename F>
void require_data_error(F&& body, data::DataErrorKind kind,
                        const std::vector<std::string>& fragments) {
  try {
    body();
  } catch (const data::DataError& e) {
    INFO("message: " << e.what());
    CHECK(data::data_error_kind_name(e.kind()) == std::string(data::data_error_kind_name(kind)));
    for (const std::string& f : fragments)
      CHECK(std::string(e.what()).find(f) != std::string::npos);
    return;
  }
  FAIL("expected a DataError (" << data::data_error_kind_name(kind) << ")");
}

inline std::string camvid_root() {
  return (std::filesystem::path(RTSEG_SOURCE_DIR) / ".." / "shared" / "data" / "camvid")
      .lexically_normal()
      .string();
}

inline bool camvid_available() {
  return std::filesystem::exists(std::filesystem::path(camvid_root()) / "train.txt") &&
         std::filesystem::exists(std::filesystem::path(camvid_root()) / "val.txt");
}

}  // namespace rtseg::testing
