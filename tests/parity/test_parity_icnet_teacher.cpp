// The IC9600 teacher's checkpoint path end to end (tools/reference/parity_icnet_teacher.py): a
// PyTorch ICNet saved as the authors save ck.pth (a bare state_dict) and converted with
// tools/convert_checkpoint.py loads *strictly* into rtseg's IcnetTeacher, every tensor lands in
// the module of its name (fingerprints of the original tensors), the eval-mode forward at the
// authors' 512×512 gives PyTorch's map and score (float32, 1e-4), and the pseudo-label of a
// 200×280 crop (resize to 512², teacher, resize back) matches in float64 (1e-9: the same graph).
#include <cmath>

#include "core/autograd.h"
#include "nets/icnet_teacher.h"
#include "parity_support.h"

using namespace rtseg;

namespace {

std::vector<double> fingerprint(const Tensor& t) {
  const std::vector<double> v = t.to_doubles();
  if (v.empty()) return std::vector<double>(5, 0.0);
  double sum = 0, ramp = 0, abs_sum = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    sum += v[i];
    ramp += v[i] * double(i % 7 + 1);
    abs_sum += std::abs(v[i]);
  }
  return {sum, ramp, abs_sum, v.front(), v.back()};
}

// The teacher with the converted checkpoint loaded strictly (checked on the way).
IcnetTeacher& loaded_teacher() {
  static const std::shared_ptr<IcnetTeacher> net = [] {
    auto t = std::make_shared<IcnetTeacher>(IcnetTeacherOptions{512, 99});
    const LoadReport report =
        load_safetensors(*t, parity::reference_path("icnet_teacher_converted.safetensors"), true);
    REQUIRE(report.clean());
    REQUIRE(report.loaded.size() == 246);
    return t;
  }();
  return *net;
}

}  // namespace

TEST_CASE("A converted ck.pth loads strictly into IcnetTeacher, every tensor by its name",
          "[parity][icnet]") {
  const SafetensorsFile ref =
      SafetensorsFile::read(parity::reference_path("icnet_teacher.safetensors"));
  const std::string converted = parity::reference_path("icnet_teacher_converted.safetensors");
  IcnetTeacher& net = loaded_teacher();
  // The converter keeps the bare state_dict's keys, in the authors' order.
  const SafetensorsFile file = SafetensorsFile::read(converted);
  REQUIRE(file.metadata().at("state_dict") == "top level");
  const NamedTensors state = net.state_dict();
  const std::vector<std::string> names = file.names();
  REQUIRE(names.size() == state.size());
  for (size_t i = 0; i < names.size(); ++i) REQUIRE(names[i] == state[i].first);
  for (const auto& [key, t] : state) {
    INFO(key);
    const std::vector<double> expected = ref.tensor("fingerprint/" + key).to_doubles();
    const std::vector<double> actual = fingerprint(t);
    const double scale = expected[2] + 1.0;  // Σ|x|: the summation-order rounding scales with it
    for (size_t i = 0; i < 5; ++i) REQUIRE(std::abs(actual[i] - expected[i]) <= 1e-9 * scale);
  }
}

TEST_CASE("IcnetTeacher's 512×512 map and score match PyTorch in float32", "[parity][icnet]") {
  const SafetensorsFile ref =
      SafetensorsFile::read(parity::reference_path("icnet_teacher.safetensors"));
  IcnetTeacher& net = loaded_teacher();
  net.to(DType::F32);
  net.eval();
  autograd::NoGradGuard no_grad;
  const IcnetTeacher::Outputs out = net.forward_with_score(ref.tensor("input"));
  parity::require_match("map", out.map, ref.tensor("map"), 1e-4);
  parity::require_match("score", out.score, ref.tensor("score"), 1e-4);
}

TEST_CASE("teacher_complexity on a 200×280 crop matches PyTorch in float64", "[parity][icnet]") {
  const SafetensorsFile ref =
      SafetensorsFile::read(parity::reference_path("icnet_teacher.safetensors"));
  IcnetTeacher& net = loaded_teacher();
  net.to(DType::F64);
  net.train();  // teacher_complexity must switch to eval itself
  const Tensor label = teacher_complexity(net, ref.tensor("crop_f64"));
  REQUIRE(label.dtype() == DType::F64);
  parity::require_match("complexity", label, ref.tensor("complexity_f64"), 1e-9);
  REQUIRE(net.is_training());
}

RTSEG_PARITY_REFERENCE_FILE("icnet_teacher.safetensors")
