// PIDNet's loss terms and ICFRNet's IC loss against the PyTorch reference written from
// docs/pidnet-s.md and docs/icfrnet.md (tools/reference/pidnet_loss.py; inputs and values from
// tools/reference/parity_pidnet_loss.py): every term and its gradient w.r.t. every head, 19 classes
// with the Cityscapes weights, heads at 6×8 and labels at 45×61, in two OHEM settings. float64 to
// 1e-9, float32 to 1e-4 (errors normalised per tensor by max |reference|).
#include "core/ops.h"
#include "nets/ic_loss.h"
#include "nets/pidnet_loss.h"
#include "parity_support.h"

using namespace rtseg;

namespace {

const char* kFile = "pidnet_loss.safetensors";

// The gradient of `term` w.r.t. `x`, zeros where the term does not reach it.
Tensor grad_or_zeros(const Tensor& x) {
  return x.grad().defined() ? x.grad() : Tensor::zeros(x.shape(), x.dtype());
}

Tensor leaf(const SafetensorsFile& ref, const std::string& name) {
  Tensor t = ref.tensor(name).clone();
  t.set_requires_grad(true);
  return t;
}

void check_pidnet(const std::string& dt, double tol) {
  const SafetensorsFile ref = SafetensorsFile::read(parity::reference_path(kFile));
  const Tensor labels = ref.tensor("labels"), edges = ref.tensor("edges");
  const DType dtype = dt == "f64" ? DType::F64 : DType::F32;
  for (const std::string c : {"default", "kept1000"}) {
    PidnetLossOptions o;
    o.class_weights = cityscapes_class_weights(dtype);
    if (c == "kept1000") {
      o.ohem_min_kept = 1000;
      o.aux_reduction = AuxCeReduction::WeightedMean;
    }
    for (const std::string term : {"aux", "main", "boundary", "boundary_semantic", "total"}) {
      // A fresh graph per term, so that each gradient is that term's alone.
      const std::vector<Tensor> heads = {leaf(ref, dt + "/aux_in"), leaf(ref, dt + "/main_in"),
                                         leaf(ref, dt + "/boundary_in")};
      const PidnetLossTerms t = pidnet_loss(heads, labels, edges, o);
      Tensor value;
      for (const auto& [name, v] : t.named()) {
        if (name == term) value = v;
      }
      REQUIRE(value.defined());
      REQUIRE(value.dtype() == dtype);
      const std::string key = dt + "/" + c + "/" + term;
      parity::require_match(key, value, ref.tensor(key), tol);
      value.backward();
      const char* names[] = {"aux", "main", "boundary"};
      for (size_t i = 0; i < 3; ++i) {
        const std::string g = key + "/grad_" + names[i];
        parity::require_match(g, grad_or_zeros(heads[i]), ref.tensor(g), tol);
      }
    }
  }
}

void check_ic(const std::string& dt, double tol) {
  const SafetensorsFile ref = SafetensorsFile::read(parity::reference_path(kFile));
  for (const std::string term : {"mse", "kl", "total"}) {
    const Tensor ic = leaf(ref, dt + "/ic_in");
    const IcLossTerms t = ic_loss(ic, ref.tensor(dt + "/teacher"));
    const Tensor value = term == "mse" ? t.mse : term == "kl" ? t.kl : t.total;
    const std::string key = dt + "/ic/" + term;
    parity::require_match(key, value, ref.tensor(key), tol);
    value.backward();
    parity::require_match(key + "/grad_ic", grad_or_zeros(ic), ref.tensor(key + "/grad_ic"), tol);
  }
}

}  // namespace

TEST_CASE("PIDNet loss terms and their gradients match PyTorch in float64",
          "[parity][pidnet_loss]") {
  check_pidnet("f64", 1e-9);
}

TEST_CASE("PIDNet loss terms and their gradients match PyTorch in float32",
          "[parity][pidnet_loss]") {
  check_pidnet("f32", 1e-4);
}

TEST_CASE("ICFRNet's IC loss and its gradient match PyTorch in float64 and float32",
          "[parity][ic_loss]") {
  check_ic("f64", 1e-9);
  check_ic("f32", 1e-4);
}

RTSEG_PARITY_REFERENCE_FILE("pidnet_loss.safetensors")
