// safetensors: round trips, files crossing to and from an independent Python writer/reader,
// every class of malformed file, and a randomized mutation (fuzz) test of the reader.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/safetensors.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

std::string temp_path(const std::string& name) { return "rtseg_test_" + name; }

std::vector<uint8_t> with_header(const std::string& json, const std::vector<uint8_t>& data,
                                 int64_t claimed_length = -1) {
  std::vector<uint8_t> out(8);
  const uint64_t n = claimed_length >= 0 ? static_cast<uint64_t>(claimed_length) : json.size();
  std::memcpy(out.data(), &n, 8);
  out.insert(out.end(), json.begin(), json.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

bool have_python() { return std::system("python3 -c 'import json, struct' > /dev/null 2>&1") == 0; }

const std::string kFixtureScript =
    std::string(RTSEG_SOURCE_DIR) + "/tools/reference/safetensors_fixture.py";

}  // namespace

TEST_CASE("safetensors round trip keeps names, order, dtypes, shapes, values and metadata",
          "[safetensors]") {
  Generator gen(1);
  std::vector<std::pair<std::string, Tensor>> tensors = {
      {"conv.weight", rand_uniform({4, 3, 3, 3}, -1, 1, gen)},
      {"bn.running_var", rand_uniform({4}, 0, 1, gen, DType::F64)},
      {"bn.num_batches_tracked", Tensor::full({}, 7, DType::I64)},
      {"image", Tensor::from_vector<uint8_t>({0, 255, 3}, {3})},
      {"empty", Tensor::zeros({0, 5})},
      {"strided", narrow(rand_uniform({2, 4, 3}, -1, 1, gen), 1, 1, 2)}};
  const std::string path = temp_path("roundtrip.safetensors");
  write_safetensors(path, tensors, {{"epoch", "3"}});
  SafetensorsFile f = SafetensorsFile::read(path);
  REQUIRE(f.names() == std::vector<std::string>{"conv.weight", "bn.running_var",
                                                "bn.num_batches_tracked", "image", "empty",
                                                "strided"});
  REQUIRE(f.metadata().at("epoch") == "3");
  for (const auto& [name, t] : tensors) {
    INFO(name);
    Tensor back = f.tensor(name);
    REQUIRE(back.dtype() == t.dtype());
    REQUIRE(back.shape() == t.shape());
    REQUIRE(back.to_doubles() == t.to_doubles());
  }
  std::remove(path.c_str());
}

TEST_CASE("a file from an independent Python writer loads, with F16/BF16/I32 widened",
          "[safetensors]") {
  if (!have_python()) {
    WARN("python3 not found: cross-implementation check skipped");
    return;
  }
  const std::string path = temp_path("python.safetensors");
  REQUIRE(std::system(("python3 " + kFixtureScript + " write " + path).c_str()) == 0);
  SafetensorsFile f = SafetensorsFile::read(path);
  require_values(f.tensor("weights.f32"), {1.5, -2.0, 0.25, 3.0, -0.125, 1e-3});
  REQUIRE(f.tensor("weights.f64").to_vector<double>() ==
          std::vector<double>{3.141592653589793, -1e-300, 2.0});
  REQUIRE(f.tensor("labels").to_vector<int64_t>() ==
          std::vector<int64_t>{0, 255, -1, int64_t(1) << 40});
  REQUIRE(f.tensor("pixels").to_vector<uint8_t>() == std::vector<uint8_t>{0, 1, 128, 255});
  REQUIRE(f.tensor("counts").to_vector<int64_t>() == std::vector<int64_t>{-7, 0, 2147483647});
  REQUIRE(f.tensor("half").to_vector<float>() == std::vector<float>{1.0f, -0.5f, 65504.0f});
  REQUIRE(f.tensor("brain").to_vector<float>() == std::vector<float>{1.0f, -3.0f});
  REQUIRE(f.tensor("bn.num_batches_tracked").shape() == Shape{});
  REQUIRE(f.tensor("bn.num_batches_tracked").item() == 12);
  REQUIRE(f.tensor("empty").shape() == Shape{0, 3});
  REQUIRE(f.metadata().at("note") == "fixture");
  std::remove(path.c_str());
}

TEST_CASE("a file written by rtseg reads back in an independent Python reader", "[safetensors]") {
  if (!have_python()) {
    WARN("python3 not found: cross-implementation check skipped");
    return;
  }
  const std::string path = temp_path("to_python.safetensors");
  const std::string listing = temp_path("to_python.txt");
  write_safetensors(path,
                    {{"a", Tensor::from_doubles({0.5, -1.25}, {2})},
                     {"b", Tensor::from_vector<int64_t>({3, 4, 5}, {3, 1})}},
                    {{"k", "v"}});
  REQUIRE(std::system(("python3 " + kFixtureScript + " check " + path + " > " + listing).c_str()) ==
          0);
  std::ifstream in(listing);
  std::stringstream text;
  text << in.rdbuf();
  REQUIRE(text.str() == "__metadata__ {\"k\": \"v\"}\na F32 2 0.5 -1.25\nb I64 3,1 3 4 5\n");
  std::remove(path.c_str());
  std::remove(listing.c_str());
}

TEST_CASE("malformed files are rejected with a clear error", "[safetensors][errors]") {
  const std::vector<uint8_t> four_floats(16, 0);
  const std::string ok = R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
  REQUIRE_NOTHROW(SafetensorsFile::parse(with_header(ok, four_floats), "ok"));
  struct Bad {
    std::vector<uint8_t> bytes;
    std::string fragment;
  };
  const std::vector<Bad> cases = {
      {{1, 2, 3}, "not a safetensors file"},
      {with_header(ok, four_floats, 1000), "runs past the end"},
      {with_header(ok, four_floats, int64_t(200'000'000)), "exceeds the"},
      {with_header(ok, {0, 0, 0, 0}), "lie outside"},
      {with_header(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})",
                   std::vector<uint8_t>(12)),
       "span 12 bytes"},
      {with_header(
           R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
           std::vector<uint8_t>(12)),
       "overlaps"},
      {with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                   std::vector<uint8_t>(8)),
       "a gap"},
      {with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                   std::vector<uint8_t>(8)),
       "cover 4 bytes"},
      {with_header(R"({"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}})",
                   std::vector<uint8_t>(4)),
       "unknown dtype 'Q7'"},
      {with_header(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})",
                   std::vector<uint8_t>(4)),
       "non-integer or negative"},
      {with_header(R"({"a":{"dtype":"F32","shape":[1]}})", std::vector<uint8_t>(4)),
       "needs dtype, shape and data_offsets"},
      {with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})",
                   std::vector<uint8_t>(4)),
       "lie outside"},
      {with_header(R"({"a":{"dtype":"F32",)", {}), "malformed header JSON"},
      {with_header("{\"\xff\xfe\":{}}", {}), "malformed header JSON"},
      {with_header("[1,2]", {}), "does not start with a JSON object"},
      {with_header(R"({"__metadata__":{"k":1}})", {}), "is not a string"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i);
    require_error([&] { SafetensorsFile::parse(cases[i].bytes, "bad.safetensors"); },
                  cases[i].fragment);
  }
  require_error([] { SafetensorsFile::read("/nonexistent/dir/x.safetensors"); }, "cannot open");
  require_error([&] { SafetensorsFile::parse(with_header(ok, four_floats), "f").tensor("zz"); },
                "no tensor named 'zz'");
}

TEST_CASE("files of other formats are named, with what to do", "[safetensors][errors]") {
  auto bytes = [](const std::string& text) {
    return std::vector<uint8_t>(text.begin(), text.end());
  };
  std::vector<uint8_t> zip = bytes(std::string("PK\x03\x04", 4) + "archive/data.pkl.........");
  std::vector<uint8_t> pickle = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc,
                                 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8};
  std::vector<uint8_t> png = bytes(std::string("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16));
  require_error([&] { SafetensorsFile::parse(zip, "ck.pth"); },
                "ck.pth: not a safetensors file: this is a PyTorch checkpoint (a zip archive, as "
                "torch.save writes): "
                "convert it with `rtseg convert");
  require_error([&] { SafetensorsFile::parse(pickle, "old.pth"); }, "a Python pickle");
  require_error([&] { SafetensorsFile::parse(png, "x.png"); }, "this is a PNG image, not weights");
  require_error(
      [&] {
        SafetensorsFile::parse(bytes("model:\n  name: cifrenet\ntrain:\n  lr: 0.01\n"), "c.yaml");
      },
      "this is a text file (a YAML config or a list?)");
  require_error([&] { SafetensorsFile::parse(bytes("\xEF\xBB\xBFmodel: x\n"), "bom.yaml"); },
                "a text file");
  // A file safetensors' checks accept is never second-guessed by its first bytes.
  const std::string ok = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  REQUIRE_NOTHROW(SafetensorsFile::parse(with_header(ok, std::vector<uint8_t>(4)), "ok"));
}

TEST_CASE("randomly mutated files never crash the reader", "[safetensors][fuzz]") {
  Generator gen(2024);
  const std::vector<uint8_t> valid =
      encode_safetensors({{"w", rand_uniform({3, 5}, -1, 1, gen)},
                          {"n", Tensor::full({}, 3, DType::I64)},
                          {"b", Tensor::from_vector<uint8_t>({1, 2}, {2})}},
                         {{"m", "x"}});
  int accepted = 0, rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<uint8_t> bytes = valid;
    const int64_t kind = gen.randint(4);
    if (kind == 0) {  // flip a few random bytes
      for (int64_t k = 0, n = 1 + gen.randint(4); k < n; ++k)
        bytes[gen.randint(bytes.size())] = static_cast<uint8_t>(gen.randint(256));
    } else if (kind == 1) {  // truncate
      bytes.resize(gen.randint(bytes.size()));
    } else if (kind == 2) {  // change the header length
      const uint64_t n = gen.randint(400);
      std::memcpy(bytes.data(), &n, 8);
    } else {  // flip bytes inside the JSON only
      const uint64_t header =
          bytes.size() > 16 ? 8 + gen.randint(static_cast<int64_t>(valid.size() - 8 - 60)) : 8;
      bytes[header] = static_cast<uint8_t>(gen.randint(256));
    }
    try {
      SafetensorsFile f = SafetensorsFile::parse(bytes, "fuzz");
      for (const std::string& name : f.names()) f.tensor(name);
      ++accepted;
    } catch (const Error&) {
      ++rejected;
    }
  }
  INFO(accepted << " mutated files accepted, " << rejected << " rejected");
  REQUIRE(rejected > 1000);
}
