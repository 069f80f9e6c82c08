// softmax / log_softmax: hand-checked values, PyTorch's values (torch 1.13, float64, hard-coded),
// stability on huge logits, gradients by finite differences, bad input.
#include <cmath>

#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

// s·sin(a·i + b) over the flat index (the oracle script builds the same input).
Tensor pattern(const Shape& shape, DType dtype = DType::F64) {
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = 2.0 * std::sin(0.7 * static_cast<double>(i) + 0.3);
  return Tensor::from_doubles(v, shape, dtype);
}

}  // namespace

TEST_CASE("softmax and log_softmax by hand", "[softmax]") {
  // exp(0) : exp(ln 3) = 1 : 3 → [1/4, 3/4] along the channels of a 1×2×1×1 map.
  Tensor x = Tensor::from_doubles({0, std::log(3.0)}, {1, 2, 1, 1}, DType::F64);
  require_values(softmax(x), {0.25, 0.75}, 1e-15);
  require_values(log_softmax(x), {std::log(0.25), std::log(0.75)}, 1e-15);
  // Adding a constant along the softmax dimension changes nothing.
  require_values(softmax(add_scalar(x, 123.0)), {0.25, 0.75}, 1e-14);
  // Default dim is 1: for a 1×3×1×2 map each column is normalised on its own.
  Tensor y = Tensor::from_doubles({0, 5, 0, 5, 0, 5}, {1, 3, 1, 2}, DType::F64);
  require_values(softmax(y), {1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3}, 1e-15);
}

TEST_CASE("softmax matches PyTorch along every dimension", "[softmax][pytorch]") {
  Tensor x = pattern({2, 3, 2, 2});
  // F.softmax(x, 1), F.log_softmax(x, 1), F.softmax(x, -1), F.log_softmax(x, 0).
  const std::vector<double> sm1 = {
      0.53650018931208,    0.7136929994457412,  0.5638856877288978,   0.3427335161221395,
      0.3228500023913925,  0.03900910754293677, 0.010984241924417087, 0.01516693230479297,
      0.14064980829652757, 0.2472978930113221,  0.425130070346685,    0.6420995515730676,
      0.3381732598664266,  0.20166225153024137, 0.08875562781048678,  0.023452570740154177,
      0.01559133884391985, 0.09374561219521987, 0.596439024602303,    0.9299922057289147,
      0.6462354012896535,  0.7045921362745388,  0.3148053475872103,   0.04655522353093109};
  const std::vector<double> lsm1 = {
      -0.6226883640464321,  -0.3373023818724163,  -0.5729037293584565, -1.0708020547023767,
      -1.1305674525025293,  -3.243960133373647,   -4.511293585593587,  -4.188637727244987,
      -1.961482107029585,   -1.3971616244614535,  -0.8553601090062648, -0.4430119225579154,
      -1.0841969116801269,  -1.6011610030975383,  -2.4218684406879176, -3.752775163652581,
      -4.161039721221351,   -2.367170418477911,   -0.5167782646267675, -0.0725790738066065,
      -0.43659144329526695, -0.35013617369002015, -1.1558007753302788, -3.0671160682154928};
  const std::vector<double> sm_last = {
      0.25126037209531243, 0.7487396279046875,  0.6530341941654174,  0.3469658058345826,
      0.7869901136341919,  0.21300988636580798, 0.45310054386981147, 0.5468994561301885,
      0.20248480247884537, 0.7975151975211545,  0.4309826106861553,  0.5690173893138447,
      0.7818342402250708,  0.2181657597749292,  0.6707835705008801,  0.32921642949911994,
      0.2622231043211426,  0.7377768956788573,  0.2566650636939101,  0.7433349363060897,
      0.6621674806891176,  0.3378325193108825,  0.7845091408589504,  0.2154908591410495};
  const std::vector<double> lsm0 = {
      -1.1266389734374556,  -0.17836898815470573, -0.03866328467573386, -0.03576678829387558,
      -0.14821541735031915, -0.9786004916932682,  -2.6809650058005587,  -3.5154193316036157,
      -2.785012959610876,   -1.0882034126412339,  -0.17012606331409105, -0.0378577914284457,
      -0.391740926595768,   -1.8117601068637832,  -3.272134203366435,   -3.3485656095291616,
      -1.982281091593758,   -0.4713432742814878,  -0.07095589219497897, -0.030186390450316878,
      -0.06371570140117562, -0.41071045935375594, -1.8550729369993453,  -3.2927876493711046};
  require_values(softmax(x, 1), sm1, 1e-13);
  require_values(log_softmax(x, 1), lsm1, 1e-13);
  require_values(softmax(x, -1), sm_last, 1e-13);
  require_values(softmax(x, 3), sm_last, 1e-13);
  require_values(log_softmax(x, 0), lsm0, 1e-13);
  // float32 to float precision.
  Tensor xf = pattern({2, 3, 2, 2}, DType::F32);
  require_values(softmax(xf), sm1, 1e-6);
  require_values(log_softmax(xf), lsm1, 1e-5);
}

TEST_CASE("softmax is stable on huge logits", "[softmax]") {
  // Without the max subtracted, exp(1000) overflows to inf in float and double alike.
  for (DType dt : {DType::F32, DType::F64}) {
    // 1000 and 1002 are exact in float: softmax = [1, e²]/(1 + e²).
    const double e2 = std::exp(2.0);
    Tensor x = Tensor::from_doubles({1000, 1002, -1000, -1000}, {2, 2}, dt);
    require_values(softmax(x, 1), {1 / (1 + e2), e2 / (1 + e2), 0.5, 0.5}, 1e-6);
    require_values(log_softmax(x, 1),
                   {-std::log1p(e2), 2 - std::log1p(e2), std::log(0.5), std::log(0.5)}, 1e-6);
  }
}

TEST_CASE("softmax reads non-contiguous views", "[softmax]") {
  Tensor base = pattern({2, 4, 3, 5});
  Tensor view = narrow(base, 1, 1, 3);
  REQUIRE_FALSE(view.is_contiguous());
  require_close(softmax(view), softmax(view.clone()), 0, 0);
  require_close(log_softmax(view, 3), log_softmax(view.clone(), 3), 0, 0);
}

TEST_CASE("softmax gradients match finite differences", "[softmax][grad]") {
  Generator gen(3);
  Tensor x = random_input({2, 5, 3, 7}, gen, -3, 3);
  for (int64_t dim : {0, 1, 2, 3, -1}) {
    INFO("dim " << dim);
    gradcheck([dim](const std::vector<Tensor>& t) { return softmax(t[0], dim); }, {x});
    gradcheck([dim](const std::vector<Tensor>& t) { return log_softmax(t[0], dim); }, {x});
  }
  Tensor v = random_input({9}, gen, -3, 3);
  gradcheck([](const std::vector<Tensor>& t) { return log_softmax(t[0], 0); }, {v});
}

TEST_CASE("softmax rejects bad input with the op's name", "[softmax][errors]") {
  Tensor x = Tensor::zeros({2, 3, 4, 4});
  require_error([&] { softmax(x, 4); }, "softmax: dimension 4 out of range");
  require_error([&] { log_softmax(x, -5); }, "log_softmax: dimension -5 out of range");
  require_error(
      [&] {
        softmax(Tensor::zeros({2, 3}, DType::I64));
      },
      "softmax: input must be float32 or float64");
  require_error([&] { log_softmax(Tensor()); }, "log_softmax: input is an undefined tensor");
  require_error([&] { softmax(Tensor::zeros({})); },
                "softmax: input must have at least 1 dimension");
}
