// Loading weights by name: wrapper prefixes, strict refusal that changes nothing, reports.
#include "core/safetensors.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/sequential.h"
#include "layers/state_dict.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

std::shared_ptr<Sequential> make_net(Generator& gen) {
  auto net = std::make_shared<Sequential>();
  net->push_back(std::make_shared<Conv2d>(Conv2dOptions{3, 4, 3, 1, 1, 1, 1, false}, gen));
  net->push_back(std::make_shared<BatchNorm2d>(4));
  return net;
}

std::map<std::string, Tensor> as_map(const NamedTensors& entries, const std::string& prefix = "") {
  std::map<std::string, Tensor> out;
  for (const auto& [k, t] : entries) out[prefix + k] = t.clone();
  return out;
}

}  // namespace

TEST_CASE("wrapper prefixes are stripped", "[state_dict]") {
  REQUIRE(strip_wrapper_prefixes("module.conv1.weight") == "conv1.weight");
  REQUIRE(strip_wrapper_prefixes("model.module._orig_mod.x") == "x");
  REQUIRE(strip_wrapper_prefixes("modelx.weight") == "modelx.weight");
  REQUIRE(strip_wrapper_prefixes("model.") == "model.");
}

TEST_CASE("a state_dict loads by name through wrapper prefixes", "[state_dict]") {
  Generator gen(1);
  auto a = make_net(gen), b = make_net(gen);
  a->forward(rand_uniform({2, 3, 5, 5}, -1, 1, gen));  // move BN's running stats off their init
  LoadReport r = load_state_dict(*b, as_map(a->state_dict(), "model."), true);
  REQUIRE(r.clean());
  REQUIRE(r.loaded.size() == 6);
  for (size_t i = 0; i < 6; ++i)
    REQUIRE(a->state_dict()[i].second.to_doubles() == b->state_dict()[i].second.to_doubles());
}

TEST_CASE("strict loading refuses any mismatch and changes nothing", "[state_dict]") {
  Generator gen(2);
  auto a = make_net(gen), b = make_net(gen);
  const std::vector<double> before = b->state_dict()[0].second.to_doubles();
  auto source = as_map(a->state_dict());
  source["1.weight"] = Tensor::ones({5});      // wrong shape
  source.erase("1.bias");                      // missing
  source["extra.weight"] = Tensor::ones({1});  // unexpected
  require_error([&] { load_state_dict(*b, source, true); },
                "1 missing, 1 unexpected, 1 shape mismatches");
  REQUIRE(b->state_dict()[0].second.to_doubles() == before);
  LoadReport r = load_state_dict(*b, source, false);
  REQUIRE(r.missing == std::vector<std::string>{"1.bias"});
  REQUIRE(r.unexpected == std::vector<std::string>{"extra.weight"});
  REQUIRE(r.mismatched.size() == 1);
  REQUIRE(r.mismatched[0] == "1.weight: model [4] vs source [5]");
  REQUIRE(b->state_dict()[0].second.to_doubles() == a->state_dict()[0].second.to_doubles());
  REQUIRE(r.summary().find("missing (1):\n    1.bias") != std::string::npos);
}

TEST_CASE("num_batches_tracked is optional; dtypes convert", "[state_dict]") {
  Generator gen(3);
  auto a = make_net(gen), b = make_net(gen);
  auto source = as_map(a->state_dict());
  source.erase("1.num_batches_tracked");
  source["0.weight"] = source["0.weight"].to(DType::F64);
  LoadReport r = load_state_dict(*b, source, true);
  REQUIRE(r.absent_optional == std::vector<std::string>{"1.num_batches_tracked"});
  REQUIRE(b->state_dict()[0].second.dtype() == DType::F32);
}

TEST_CASE("weights round trip through a safetensors file", "[state_dict]") {
  Generator gen(4);
  auto a = make_net(gen), b = make_net(gen);
  const std::string path = "rtseg_test_state_dict.safetensors";
  write_safetensors(path, a->state_dict());
  REQUIRE(load_safetensors(*b, path, true).clean());
  Tensor x = rand_uniform({1, 3, 6, 6}, -1, 1, gen);
  a->eval();
  b->eval();
  REQUIRE(a->forward(x).to_doubles() == b->forward(x).to_doubles());
  std::remove(path.c_str());
  require_error([&] { load_safetensors(*b, "missing.safetensors", true); },
                "missing.safetensors: cannot open");
}
