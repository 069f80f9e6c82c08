#include "apps/lib/tensorboard.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "data/image_io.h"
#include "kernels/error.h"

namespace rtseg::app {

namespace {

// Byte-wise table of the reflected Castagnoli polynomial 0x82F63B78.
const std::array<uint32_t, 256>& crc_table() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += char((v >> (8 * i)) & 0xff);
}

uint64_t get_le(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t(p[i]) << (8 * i);
  return v;
}

// Protobuf wire format: a key is (field << 3) | wire type; 0 varint, 1 fixed64,
// 2 length-delimited, 5 fixed32.
void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += char((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += char(v);
}
void put_key(std::string& out, int field, int wire) {
  put_varint(out, uint64_t(field) << 3 | wire);
}
void put_bytes(std::string& out, int field, const std::string& bytes) {
  put_key(out, field, 2);
  put_varint(out, bytes.size());
  out += bytes;
}
void put_double(std::string& out, int field, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  put_key(out, field, 1);
  put_le(out, bits, 8);
}
void put_float(std::string& out, int field, float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  put_key(out, field, 5);
  put_le(out, bits, 4);
}

std::string event_header(double wall_time, int64_t step) {
  std::string e;
  put_double(e, 1, wall_time);
  if (step != 0) {  // proto3 leaves default values out
    put_key(e, 2, 0);
    put_varint(e, uint64_t(step));
  }
  return e;
}

double unix_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

uint32_t crc32c(const void* data, size_t size, uint32_t crc) {
  const auto& table = crc_table();
  const auto* p = static_cast<const uint8_t*>(data);
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint32_t masked_crc32c(const void* data, size_t size) {
  const uint32_t crc = crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::string tfrecord(const std::string& payload) {
  std::string out, length;
  put_le(length, payload.size(), 8);
  out += length;
  put_le(out, masked_crc32c(length.data(), 8), 4);
  out += payload;
  put_le(out, masked_crc32c(payload.data(), payload.size()), 4);
  return out;
}

std::vector<std::string> read_tfrecords(const std::string& path) {
  const std::vector<uint8_t> bytes = data::read_file(path);
  std::vector<std::string> records;
  size_t pos = 0;
  while (pos < bytes.size()) {
    const size_t index = records.size();
    RTSEG_CHECK(bytes.size() - pos >= 12, "{}: record {} is truncated (header)", path, index);
    const uint64_t length = get_le(&bytes[pos], 8);
    RTSEG_CHECK(get_le(&bytes[pos + 8], 4) == masked_crc32c(&bytes[pos], 8),
                "{}: record {} has a bad length CRC", path, index);
    const size_t remaining = bytes.size() - pos - 12;
    RTSEG_CHECK(remaining >= 4 && length <= remaining - 4, "{}: record {} is truncated (data)",
                path, index);
    const uint8_t* payload = &bytes[pos + 12];
    RTSEG_CHECK(get_le(payload + length, 4) == masked_crc32c(payload, length),
                "{}: record {} has a bad data CRC", path, index);
    records.emplace_back(reinterpret_cast<const char*>(payload), length);
    pos += 12 + length + 4;
  }
  return records;
}

std::string file_version_event(double wall_time) {
  std::string e = event_header(wall_time, 0);
  put_bytes(e, 3, "brain.Event:2");
  return e;
}

std::string scalar_event(double wall_time, int64_t step, const std::string& tag, float value) {
  std::string v;
  put_bytes(v, 1, tag);
  put_float(v, 2, value);
  std::string summary;
  put_bytes(summary, 1, v);
  std::string e = event_header(wall_time, step);
  put_bytes(e, 5, summary);
  return e;
}

EventFileWriter::EventFileWriter(const std::string& dir) {
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  const double now = unix_time();
  path_ =
      (std::filesystem::path(dir) / fmt::format("events.out.tfevents.{}.{}", int64_t(now), host))
          .string();
  file_ = std::fopen(path_.c_str(), "ab");
  RTSEG_CHECK(file_ != nullptr, "cannot create the TensorBoard event file {}", path_);
  write(file_version_event(now));
  flush();
}

EventFileWriter::~EventFileWriter() {
  if (file_) std::fclose(file_);
}

void EventFileWriter::write(const std::string& event) {
  const std::string record = tfrecord(event);
  RTSEG_CHECK(std::fwrite(record.data(), 1, record.size(), file_) == record.size(),
              "cannot write the TensorBoard event file {}", path_);
}

void EventFileWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  write(scalar_event(unix_time(), step, tag, float(value)));
}

void EventFileWriter::flush() { std::fflush(file_); }

}  // namespace rtseg::app
