#include "core/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/dispatch.h"
#include "core/file_format.h"

namespace rtseg {

namespace {

struct DtypeInfo {
  const char* name;
  size_t size;
};

constexpr DtypeInfo kDtypes[] = {{"BOOL", 1}, {"U8", 1},   {"I8", 1},  {"I16", 2}, {"U16", 2},
                                 {"F16", 2},  {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},
                                 {"F64", 8},  {"I64", 8},  {"U64", 8}};

size_t dtype_bytes(const std::string& name, const std::string& source, const std::string& tensor) {
  for (const DtypeInfo& d : kDtypes) {
    if (name == d.name) return d.size;
  }
  fail("{}: tensor '{}' has unknown dtype '{}'", source, tensor, name);
}

const char* file_dtype(DType t) {
  switch (t) {
    case DType::F32:
      return "F32";
    case DType::F64:
      return "F64";
    case DType::I64:
      return "I64";
    case DType::U8:
      return "U8";
  }
  return "?";
}

float half_to_float(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v;
  if (exp == 0) {
    v = std::ldexp(static_cast<float>(mant), -24);  // zero and subnormals
  } else if (exp == 31) {
    v = mant ? NAN : INFINITY;
  } else {
    v = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  }
  return sign ? -v : v;
}

float bf16_to_float(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float v;
  std::memcpy(&v, &bits, 4);
  return v;
}

template <typename T>
T load_le(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // the format is little-endian, as is every target of rtseg
  return v;
}

}  // namespace

SafetensorsFile SafetensorsFile::parse(std::vector<uint8_t> bytes, const std::string& source) {
  SafetensorsFile f;
  f.source_ = source;
  // Where the layout is not safetensors', say what the file is if it is a known other format.
  auto require = [&](bool ok, const std::string& problem) {
    if (ok) return;
    const std::string other = describe_foreign_format(bytes.data(), bytes.size());
    if (!other.empty()) fail("{}: not a safetensors file: this is {}", source, other);
    fail("{}: {}", source, problem);
  };
  require(
      bytes.size() >= 8,
      fmt::format("not a safetensors file ({} bytes, the header length alone is 8)", bytes.size()));
  const uint64_t header_len = load_le<uint64_t>(bytes.data());
  require(
      header_len <= kSafetensorsMaxHeader,
      fmt::format("header length {} exceeds the {} byte limit", header_len, kSafetensorsMaxHeader));
  require(header_len <= bytes.size() - 8,
          fmt::format("header length {} runs past the end of the file ({} bytes)", header_len,
                      bytes.size()));
  require(header_len >= 2 && bytes[8] == '{', "the header does not start with a JSON object");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8,
                                   bytes.begin() + 8 + static_cast<int64_t>(header_len));
  } catch (const nlohmann::json::exception& e) {
    fail("{}: malformed header JSON: {}", source, e.what());
  }
  RTSEG_CHECK(header.is_object(), "{}: the header is not a JSON object", source);
  f.data_start_ = 8 + header_len;
  const uint64_t data_size = bytes.size() - f.data_start_;

  std::vector<std::pair<uint64_t, std::string>> order;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& v = it.value();
    if (name == "__metadata__") {
      RTSEG_CHECK(v.is_object(), "{}: __metadata__ must be an object of strings", source);
      for (auto m = v.begin(); m != v.end(); ++m) {
        RTSEG_CHECK(m.value().is_string(), "{}: __metadata__ value of '{}' is not a string", source,
                    m.key());
        f.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    RTSEG_CHECK(
        v.is_object() && v.contains("dtype") && v.contains("shape") && v.contains("data_offsets"),
        "{}: entry '{}' needs dtype, shape and data_offsets", source, name);
    RTSEG_CHECK(v["dtype"].is_string(), "{}: dtype of '{}' is not a string", source, name);
    RTSEG_CHECK(v["shape"].is_array(), "{}: shape of '{}' is not an array", source, name);
    const nlohmann::json& offsets = v["data_offsets"];
    RTSEG_CHECK(offsets.is_array() && offsets.size() == 2 && offsets[0].is_number_unsigned() &&
                    offsets[1].is_number_unsigned(),
                "{}: data_offsets of '{}' must be two non-negative integers", source, name);
    SafetensorsEntry e;
    e.dtype = v["dtype"].get<std::string>();
    const size_t elem = dtype_bytes(e.dtype, source, name);
    uint64_t count = 1;
    for (const nlohmann::json& d : v["shape"]) {
      RTSEG_CHECK(d.is_number_unsigned(), "{}: shape of '{}' holds a non-integer or negative size",
                  source, name);
      const uint64_t dim = d.get<uint64_t>();
      RTSEG_CHECK(dim <= (uint64_t(1) << 40) && (dim == 0 || count <= (uint64_t(1) << 62) / dim),
                  "{}: shape of '{}' is implausibly large", source, name);
      count *= dim;
      e.shape.push_back(static_cast<int64_t>(dim));
    }
    e.begin = offsets[0].get<uint64_t>();
    e.end = offsets[1].get<uint64_t>();
    RTSEG_CHECK(e.begin <= e.end && e.end <= data_size,
                "{}: data_offsets [{}, {}) of '{}' lie outside the {}-byte data section", source,
                e.begin, e.end, name, data_size);
    RTSEG_CHECK(e.end - e.begin == count * elem,
                "{}: '{}' is {} {} elements ({} bytes) but its data_offsets span {} bytes", source,
                name, count, e.dtype, count * elem, e.end - e.begin);
    order.emplace_back(e.begin, name);
    f.entries_[name] = e;
  }
  // The tensors must tile the data section exactly.
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first
                              : f.entries_[a.second].end < f.entries_[b.second].end;
  });
  uint64_t at = 0;
  for (const auto& [begin, name] : order) {
    const SafetensorsEntry& e = f.entries_[name];
    RTSEG_CHECK(e.begin == at, "{}: '{}' starts at byte {} of the data section, expected {} ({})",
                source, name, e.begin, at,
                e.begin < at ? "it overlaps the previous tensor" : "a gap");
    at = e.end;
  }
  RTSEG_CHECK(at == data_size, "{}: the tensors cover {} bytes but the data section has {}", source,
              at, data_size);
  f.bytes_ = std::move(bytes);
  return f;
}

SafetensorsFile SafetensorsFile::read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  RTSEG_CHECK(in.good(), "{}: cannot open ({})", path, std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  RTSEG_CHECK(!in.bad(), "{}: read error", path);
  return parse(std::move(bytes), path);
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::pair<uint64_t, std::string>> order;
  for (const auto& [name, e] : entries_) order.emplace_back(e.begin, name);
  std::sort(order.begin(), order.end());
  std::vector<std::string> out;
  for (auto& [b, n] : order) out.push_back(n);
  return out;
}

const SafetensorsEntry& SafetensorsFile::entry(const std::string& name) const {
  auto it = entries_.find(name);
  RTSEG_CHECK(it != entries_.end(), "{}: no tensor named '{}'", source_, name);
  return it->second;
}

Tensor SafetensorsFile::tensor(const std::string& name) const {
  const SafetensorsEntry& e = entry(name);
  const uint8_t* p = bytes_.data() + data_start_ + e.begin;
  const int64_t n = shape_numel(e.shape);
  auto widen = [&](DType dt, auto convert) {
    Tensor t = Tensor::empty(e.shape, dt);
    RTSEG_DISPATCH_ALL(dt, "safetensors", [&] {
      scalar_t* dst = t.data<scalar_t>();
      for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<scalar_t>(convert(i));
    });
    return t;
  };
  const std::string& d = e.dtype;
  if (d == "F32" || d == "F64" || d == "I64" || d == "U8") {
    const DType dt = d == "F32"   ? DType::F32
                     : d == "F64" ? DType::F64
                     : d == "I64" ? DType::I64
                                  : DType::U8;
    Tensor t = Tensor::empty(e.shape, dt);
    if (n) std::memcpy(t.raw_data(), p, e.end - e.begin);
    return t;
  }
  if (d == "F16")
    return widen(DType::F32,
                 [&](int64_t i) { return half_to_float(load_le<uint16_t>(p + 2 * i)); });
  if (d == "BF16")
    return widen(DType::F32,
                 [&](int64_t i) { return bf16_to_float(load_le<uint16_t>(p + 2 * i)); });
  if (d == "I32") return widen(DType::I64, [&](int64_t i) { return load_le<int32_t>(p + 4 * i); });
  if (d == "U32") return widen(DType::I64, [&](int64_t i) { return load_le<uint32_t>(p + 4 * i); });
  if (d == "I16") return widen(DType::I64, [&](int64_t i) { return load_le<int16_t>(p + 2 * i); });
  if (d == "U16") return widen(DType::I64, [&](int64_t i) { return load_le<uint16_t>(p + 2 * i); });
  if (d == "I8") return widen(DType::I64, [&](int64_t i) { return static_cast<int8_t>(p[i]); });
  if (d == "BOOL") return widen(DType::I64, [&](int64_t i) { return p[i] ? 1 : 0; });
  fail("{}: tensor '{}' has dtype {}, which rtseg cannot represent", source_, name, d);
}

std::vector<uint8_t> encode_safetensors(const std::vector<std::pair<std::string, Tensor>>& tensors,
                                        const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<Tensor> hosts;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    RTSEG_CHECK(t.defined(), "safetensors: tensor '{}' is undefined", name);
    RTSEG_CHECK(name != "__metadata__" && !name.empty(), "safetensors: invalid tensor name '{}'",
                name);
    RTSEG_CHECK(!header.contains(name), "safetensors: tensor name '{}' appears twice", name);
    Tensor h = t.detach().to(Device::cpu());
    if (!h.is_contiguous()) h = h.clone();
    const uint64_t size = static_cast<uint64_t>(h.numel()) * dtype_size(h.dtype());
    header[name] = {{"dtype", file_dtype(h.dtype())},
                    {"shape", h.shape()},
                    {"data_offsets", {offset, offset + size}}};
    offset += size;
    hosts.push_back(h);
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8,
              ' ');  // align the data section to 8 bytes, as the reference writer does
  std::vector<uint8_t> out(8 + text.size() + offset);
  const uint64_t len = text.size();
  std::memcpy(out.data(), &len, 8);
  std::memcpy(out.data() + 8, text.data(), text.size());
  uint8_t* data = out.data() + 8 + text.size();
  for (const Tensor& h : hosts) {
    const size_t size = static_cast<size_t>(h.numel()) * dtype_size(h.dtype());
    if (size) std::memcpy(data, h.raw_data(), size);
    data += size;
  }
  return out;
}

void write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    RTSEG_CHECK(out.good(), "{}: cannot create ({})", tmp, std::strerror(errno));
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out.good()) {
      std::remove(tmp.c_str());
      fail("{}: write failed ({})", tmp, std::strerror(errno));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    fail("{}: cannot move the finished file into place ({})", path, std::strerror(err));
  }
}

void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  write_file_atomically(path, encode_safetensors(tensors, metadata));
}

}  // namespace rtseg
