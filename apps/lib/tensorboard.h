// TensorBoard scalars without TensorFlow or protobuf: an event file is a sequence of TFRecords
//   uint64 length | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)
// (little-endian; CRC-32C, Castagnoli; masked = ((crc >> 15) | (crc << 17)) + 0xa282ead8), each
// holding a protobuf `Event {double wall_time = 1; int64 step = 2; string file_version = 3;
// Summary summary = 5}` with `Summary {repeated Value value = 1}` and `Value {string tag = 1;
// float simple_value = 2}`. The first event carries file_version "brain.Event:2".
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace rtseg::app {

uint32_t crc32c(const void* data, size_t size, uint32_t crc = 0);
uint32_t masked_crc32c(const void* data, size_t size);

// One TFRecord around `payload`.
std::string tfrecord(const std::string& payload);
// Reads every record of a TFRecord file, checking lengths and both CRCs of each; a truncated or
// corrupt record is an Error naming the file and the record.
std::vector<std::string> read_tfrecords(const std::string& path);

// Serialised Event messages.
std::string file_version_event(double wall_time);
std::string scalar_event(double wall_time, int64_t step, const std::string& tag, float value);

class EventFileWriter {
 public:
  // Creates <dir>/events.out.tfevents.<unix seconds>.<host> and writes the version event.
  explicit EventFileWriter(const std::string& dir);
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  void add_scalar(const std::string& tag, double value, int64_t step);
  void flush();
  const std::string& path() const { return path_; }

 private:
  void write(const std::string& event);
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace rtseg::app
