#include "apps/lib/model.h"

#include <cmath>
#include <map>

#include "core/cuda_runtime.h"
#include "core/safetensors.h"
#include "nets/registry.h"
#include "optim/checkpoint.h"

namespace rtseg::app {

namespace {

const std::string kModelPrefix = kCheckpointModelPrefix;

}  // namespace

Device choose_device(const std::string& request) {
  if (request == "cpu") return Device::cpu();
  if (request == "auto") return cuda_available() ? Device::cuda(0) : Device::cpu();
  int index = 0;
  if (request.rfind("cuda:", 0) == 0) {
    char* end = nullptr;
    index = int(std::strtol(request.c_str() + 5, &end, 10));
    RTSEG_CHECK(*end == '\0' && index >= 0, "device '{}': expected cuda:N", request);
  } else {
    RTSEG_CHECK(request == "cuda", "device '{}': expected auto, cpu, cuda or cuda:N", request);
  }
  const CudaAvailability& a = cuda_availability();
  RTSEG_CHECK(a.device_count > 0, "device '{}': no GPU can be used ({})", request, a.reason);
  RTSEG_CHECK(index < a.device_count, "device '{}': only {} GPU(s) present", request,
              a.device_count);
  return Device::cuda(index);
}

std::shared_ptr<Module> build_net(const ModelSettings& m, int64_t classes, const std::string& graph,
                                  uint64_t seed) {
  NetOptions o;
  o.num_classes = classes;
  o.dataset = m.variant;
  o.graph = graph;
  o.seed = seed;
  return create_net(m.name, o);
}

LoadReport load_weights(Module& net, const std::string& path, bool strict) {
  const SafetensorsFile file = SafetensorsFile::read(path);
  const bool checkpoint = is_training_checkpoint(file);
  std::map<std::string, Tensor> source;
  for (const std::string& name : file.names()) {
    if (!checkpoint) {
      source[name] = file.tensor(name);
    } else if (name.rfind(kModelPrefix, 0) == 0) {
      source[name.substr(kModelPrefix.size())] = file.tensor(name);
    }
  }
  try {
    return load_state_dict(net, source, strict);
  } catch (const Error& e) {
    fail("{}: {}", path, e.what());
  }
}

std::optional<std::string> checkpoint_config(const std::string& path) {
  const SafetensorsFile file = SafetensorsFile::read(path);
  if (!is_training_checkpoint(file)) return std::nullopt;
  auto it = file.metadata().find("config");
  if (it == file.metadata().end()) return std::nullopt;
  return it->second;
}

LoadReport load_inference_weights(Module& net, const std::string& path) {
  const LoadReport report = load_weights(net, path, /*strict=*/false);
  if (!report.missing.empty() || !report.mismatched.empty()) {
    fail("{}: the weights do not fit {}: {} missing, {} shape mismatches (first: {})", path,
         net.type_name(), report.missing.size(), report.mismatched.size(),
         report.mismatched.empty() ? "missing " + report.missing.front()
                                   : report.mismatched.front());
  }
  return report;
}

InferenceReport prepare_inference_net(Module& net) {
  net.eval();
  // The rewrites follow the net's structure, which does not depend on the input size: a small
  // trace is as good as a full-size one and costs almost nothing.
  return prepare_for_inference(net, {1, 3, 64, 64});
}

Config config_for_weights(const std::string& config_path, const std::string& weights_path,
                          const std::vector<std::string>& overrides) {
  Config config(experiment_schema());
  if (!config_path.empty()) {
    config.merge_yaml_file(config_path);
  } else {
    const std::optional<std::string> saved = checkpoint_config(weights_path);
    RTSEG_CHECK(saved.has_value(), "{} holds plain weights without a config: give --config FILE",
                weights_path);
    config.merge_yaml_text(*saved, weights_path + " (its saved config)");
  }
  for (const std::string& o : overrides) config.apply_override(o);
  return config;
}

bool all_finite(const Module& net) {
  for (const auto& [name, t] : net.state_dict()) {
    if (count_non_finite(t) > 0) return false;
  }
  return true;
}

}  // namespace rtseg::app
