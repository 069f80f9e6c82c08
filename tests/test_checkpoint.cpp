// Training checkpoints: resuming is bit-identical; bad checkpoints are refused without damage.
#include <cstdio>

#include "core/safetensors.h"
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/sequential.h"
#include "optim/checkpoint.h"
#include "optim/lr_schedule.h"
#include "test_support.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

struct Run {
  Generator init{7};
  Generator data{11};
  std::shared_ptr<Sequential> net = std::make_shared<Sequential>();
  std::unique_ptr<SGD> opt;
  PolySchedule poly{20, 0.9, 3, 0.1};
  int64_t iteration = 0;

  Run() {
    net->push_back(std::make_shared<Conv2d>(Conv2dOptions{3, 6, 3, 1, 1, 1, 1, false}, init));
    net->push_back(std::make_shared<BatchNorm2d>(6));
    net->push_back(std::make_shared<PReLU>(6));
    net->push_back(std::make_shared<Dropout>(0.3, 5));
    net->push_back(std::make_shared<Conv2d>(Conv2dOptions{6, 3, 1}, init));
    opt = std::make_unique<SGD>(net->parameters(), SgdHyper{0.05, 0.9, 0.0, 5e-4, false});
  }

  NamedGenerators generators() {
    NamedGenerators g = model_generators(*net);
    g.emplace_back("data", &data);
    return g;
  }

  void steps(int n) {
    for (int i = 0; i < n; ++i, ++iteration) {
      poly.apply(*opt, iteration);
      Tensor x = rand_uniform({2, 3, 7, 9}, -1, 1, data);
      std::vector<int64_t> labels(2 * 7 * 9);
      for (auto& l : labels) l = data.randint(3);
      opt->zero_grad();
      cross_entropy(net->forward(x), Tensor::from_vector(labels, {2, 7, 9})).backward();
      opt->step();
    }
  }

  std::vector<std::vector<double>> snapshot() const {
    std::vector<std::vector<double>> out;
    for (const auto& [k, t] : net->state_dict()) out.push_back(t.to_doubles());
    return out;
  }
};

}  // namespace

TEST_CASE("2N steps equal N steps, save, load into fresh objects, N steps — bit for bit",
          "[checkpoint]") {
  Run straight;
  straight.steps(8);

  Run first;
  first.steps(4);
  const std::string path = "rtseg_test_resume.safetensors";
  save_checkpoint(path, *first.net, *first.opt, {1, first.iteration, 0.42, "lr: 0.05"},
                  first.generators());

  Run resumed;
  resumed.data.manual_seed(999);  // deliberately wrong: the checkpoint must restore it
  TrainingPosition pos = load_checkpoint(path, *resumed.net, *resumed.opt, resumed.generators());
  REQUIRE(pos.epoch == 1);
  REQUIRE(pos.iteration == 4);
  REQUIRE(pos.best_metric == 0.42);
  REQUIRE(pos.config == "lr: 0.05");
  REQUIRE(resumed.opt->steps_taken() == 4);
  resumed.iteration = pos.iteration;
  resumed.steps(4);
  REQUIRE(resumed.snapshot() == straight.snapshot());
  std::remove(path.c_str());
}

TEST_CASE("checkpoints that do not fit are refused and change nothing", "[checkpoint][errors]") {
  Run a;
  a.steps(2);
  const std::string path = "rtseg_test_bad_checkpoint.safetensors";
  save_checkpoint(path, *a.net, *a.opt, {}, a.generators());

  Run wider;  // same names, one different shape
  wider.net = std::make_shared<Sequential>();
  wider.net->push_back(
      std::make_shared<Conv2d>(Conv2dOptions{3, 6, 5, 1, 2, 1, 1, false}, wider.init));
  wider.net->push_back(std::make_shared<BatchNorm2d>(6));
  wider.net->push_back(std::make_shared<PReLU>(6));
  wider.net->push_back(std::make_shared<Dropout>(0.3, 5));
  wider.net->push_back(std::make_shared<Conv2d>(Conv2dOptions{6, 3, 1}, wider.init));
  wider.opt = std::make_unique<SGD>(wider.net->parameters(), SgdHyper{0.05, 0.9});
  const auto before = wider.snapshot();
  require_error([&] { load_checkpoint(path, *wider.net, *wider.opt, wider.generators()); },
                "momentum of '0.weight'");
  REQUIRE(wider.snapshot() == before);

  // Plain weights are not a training checkpoint.
  const std::string weights = "rtseg_test_weights_only.safetensors";
  write_safetensors(weights, a.net->state_dict());
  require_error([&] { load_checkpoint(weights, *a.net, *a.opt, a.generators()); },
                "not an rtseg training checkpoint");
  std::remove(path.c_str());
  std::remove(weights.c_str());
}
