// rtseg bench          PIDNet's FPS protocol for one net (+ end-to-end FPS, MACs, memory,
//                      per-module times); --torch runs the PyTorch definition of the same net on
//                      the same device with the same protocol and prints the ratio; --peers runs
//                      CPU engines (PyTorch, TorchScript, ONNX Runtime, OpenVINO) likewise.
// rtseg bench-kernels  every distinct conv shape of the nets: our kernel against cuDNN (GPU only).
#include <array>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "apps/bench/kernel_bench.h"
#include "apps/bench/net_bench.h"
#include "apps/bench/train_bench.h"
#include "apps/commands.h"
#include "apps/lib/config.h"
#include "core/backend.h"
#include "core/cuda_runtime.h"

#ifndef RTSEG_TOOLS_DIR
#define RTSEG_TOOLS_DIR "tools"
#endif

namespace rtseg::app {

namespace {

struct BenchArgs {
  std::string net = "cifrenet", size = "360x640", variant = "cityscapes";
  int64_t classes = 19;
  double seconds = 5.0;
  int warmup = 10, iterations = 0;
  bool cpu = false, no_fold = false, tf32 = false, json = false, torch = false, no_layers = false;
  std::string peers;   // CPU engines to compare with (tools/reference/bench_peers.py)
  bool train = false;  // time a training step instead of inference
  int64_t batch = 2;
};

// Runs a dev-time Python script of tools/reference and returns its last line as JSON.
nlohmann::json run_reference_script(const std::string& what, const std::string& script_name,
                                    const std::string& arguments) {
  const char* dir = std::getenv("RTSEG_TOOLS_DIR");
  const std::string script = std::string(dir ? dir : RTSEG_TOOLS_DIR) + "/reference/" + script_name;
  const char* python = std::getenv("RTSEG_PYTHON");  // default: python3 on the PATH
  const std::string cmd =
      fmt::format("{} {} {} 2>&1", python ? python : "python3", shell_word(script), arguments);
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  RTSEG_CHECK(pipe != nullptr, "{}: cannot run {}", what, cmd);
  std::string output, last_line;
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), pipe.get())) {
    output += buf.data();
    last_line = buf.data();
  }
  try {
    return nlohmann::json::parse(last_line);
  } catch (const nlohmann::json::exception&) {
    fail("{}: the Python run failed ({}):\n{}", what, cmd, output);
  }
}

// Runs tools/reference/bench_torch.py and returns its JSON line.
nlohmann::json run_torch_bench(const BenchArgs& a, const NetBenchResult& ours) {
  return run_reference_script(
      "bench --torch", "bench_torch.py",
      fmt::format("--net {} --classes {} --size {} --seconds {} --device {}{}{}", a.net, a.classes,
                  a.size, a.seconds, ours.device == "cpu" ? "cpu" : "cuda",
                  a.no_fold ? "" : " --fold-bn", a.tf32 ? " --tf32" : ""));
}

// Runs tools/reference/bench_peers.py with as many threads as rtseg used.
nlohmann::json run_peers_bench(const BenchArgs& a, const NetBenchResult& ours) {
  RTSEG_CHECK(ours.device == "cpu", "bench --peers: the peers are CPU engines; add --cpu");
  return run_reference_script(
      "bench --peers", "bench_peers.py",
      fmt::format("--net {} --classes {} --size {} --seconds {} --threads "
                  "{} --peers {}",
                  a.net, a.classes, a.size, a.seconds, cpu_threads(), shell_word(a.peers)));
}

void run_train_step_bench(const BenchArgs& a, CommandContext& ctx) {
  const auto [h, w] = parse_size(a.size, "bench --size");
  TrainBenchOptions o;
  o.net = a.net;
  o.classes = a.classes;
  o.dataset = a.variant;
  o.batch = a.batch;
  o.height = h;
  o.width = w;
  o.use_gpu = !a.cpu;
  o.warmup = std::max(1, a.warmup);
  o.iterations = a.iterations;
  o.seconds = a.seconds;
  const TrainBenchResult r = run_train_bench(o);
  ctx.out << format_train_bench(r);
  if (a.peers.empty()) return;
  RTSEG_CHECK(r.device == "cpu", "bench --train --peers: the peers are CPU engines; add --cpu");
  const nlohmann::json peers = run_reference_script(
      "bench --peers", "bench_peers.py",
      fmt::format("--train --net {} --classes {} --size {} --batch {} --seconds {} --threads {} "
                  "--peers {}",
                  a.net, a.classes, a.size, a.batch, a.seconds, cpu_threads(),
                  shell_word(a.peers)))["peers"];
  for (const nlohmann::json& p : peers) {
    const std::string name = p["name"].get<std::string>();
    if (p.contains("error")) {
      ctx.out << fmt::format("  {}: not measured ({})\n", name, p["error"].get<std::string>());
      continue;
    }
    ctx.out << fmt::format("  {} {} ({} threads): {:.1f} ms per step; rtseg / {}: {:.2f}x\n", name,
                           p["version"].get<std::string>(), p["threads"].get<int>(),
                           p["step_ms"].get<double>(), name,
                           p["step_ms"].get<double>() / r.step_ms);
  }
}

void run_bench(const BenchArgs& a, CommandContext& ctx) {
  if (a.train) return run_train_step_bench(a, ctx);
  const auto [h, w] = parse_size(a.size, "bench --size");
  NetBenchOptions o;
  o.net = a.net;
  o.classes = a.classes;
  o.dataset = a.variant;
  o.height = h;
  o.width = w;
  o.seconds = a.seconds;
  o.warmup = a.warmup;
  o.iterations = a.iterations;
  o.use_gpu = !a.cpu;
  o.fold_bn = !a.no_fold;
  o.tf32 = a.tf32;
  o.per_layer = !a.no_layers;
  const NetBenchResult r = run_net_bench(o);
  nlohmann::json torch, peers;
  if (a.torch) torch = run_torch_bench(a, r);
  if (!a.peers.empty()) {
    peers = run_peers_bench(a, r)["peers"];
    for (nlohmann::json& p : peers) {
      if (p.contains("fps")) p["rtseg_speedup"] = r.fps / p["fps"].get<double>();
    }
  }
  if (a.json) {
    nlohmann::json j = nlohmann::json::parse(net_bench_json(r));
    if (a.torch) {
      j["pytorch"] = torch;
      j["speedup_vs_pytorch"] = r.fps / torch["fps"].get<double>();
    }
    if (!a.peers.empty()) j["peers"] = peers;
    ctx.out << j.dump(2) << "\n";
    return;
  }
  ctx.out << format_net_bench(r);
  for (const nlohmann::json& p : peers) {
    const std::string name = p["name"].get<std::string>();
    if (p.contains("error")) {
      ctx.out << fmt::format("  {}: not measured ({})\n", name, p["error"].get<std::string>());
      continue;
    }
    ctx.out << fmt::format("  {} {} ({} threads): {:.3f} ms, {:.1f} FPS; rtseg / {}: {:.2f}x\n",
                           name, p["version"].get<std::string>(), p["threads"].get<int>(),
                           p["latency_ms"].get<double>(), p["fps"].get<double>(), name,
                           p["rtseg_speedup"].get<double>());
  }
  if (a.torch) {
    ctx.out << fmt::format(
        "  PyTorch {} ({}, BN {}): {:.3f} ms, {:.1f} FPS; end to end {:.1f} FPS\n",
        torch["torch"].get<std::string>(), torch["device"].get<std::string>(),
        a.no_fold ? "unfolded" : "folded", torch["latency_ms"].get<double>(),
        torch["fps"].get<double>(), torch["end_to_end_fps"].get<double>());
    ctx.out << fmt::format("  rtseg / PyTorch: {:.2f}x (protocol), {:.2f}x (end to end)\n",
                           r.fps / torch["fps"].get<double>(),
                           r.end_to_end_fps / torch["end_to_end_fps"].get<double>());
  }
}

struct KernelArgs {
  int repeats = 20;
  bool tf32 = false, markdown = false;
};

void run_kernels(const KernelArgs& a, CommandContext& ctx) {
  RTSEG_CHECK(cuda_available(), "bench-kernels: needs a GPU ({})", cuda_availability().reason);
  KernelBenchOptions o;
  o.repeats = a.repeats;
  o.tf32 = a.tf32;
  const KernelBenchReport r = run_kernel_bench({{"cifrenet", {1, 3, 360, 640}},
                                                {"cifrenet", {1, 3, 512, 1024}},
                                                {"pidnet-s", {1, 3, 1024, 2048}},
                                                {"icfrnet", {1, 3, 1024, 2048}}},
                                               o);
  ctx.out << (a.markdown ? kernel_bench_markdown(r) : format_kernel_bench(r));
}

}  // namespace

void add_bench_command(CLI::App& app, CommandContext& context) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand("bench",
                                     "FPS with PIDNet's protocol (eval, BN folded, batch 1, logits "
                                     "at 1/8), end-to-end FPS, MACs, memory");
  cmd->add_option("-n,--net", args->net, "net name")->capture_default_str();
  cmd->add_option("--classes", args->classes, "number of classes")
      ->capture_default_str()
      ->check(at_least(1));
  cmd->add_option("--size", args->size, "input HxW")->capture_default_str();
  cmd->add_option("--variant", args->variant,
                  "dataset-specific structure: cityscapes, camvid or helen")
      ->capture_default_str();
  cmd->add_option("--seconds", args->seconds, "length of each timed loop")
      ->capture_default_str()
      ->check(at_least(0.01));
  cmd->add_option("--warmup", args->warmup, "untimed forwards before timing")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--iterations", args->iterations,
                  "forwards per timed loop (default 0: as many as --seconds takes, at least 10)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_flag("--cpu", args->cpu, "run on the CPU even when a GPU is present");
  cmd->add_flag("--no-fold", args->no_fold,
                "keep BatchNorm layers instead of folding them into the convs");
  cmd->add_flag("--tf32", args->tf32,
                "allow TF32 tensor-core math for fp32 convolutions and GEMMs");
  cmd->add_flag("--no-layers", args->no_layers, "skip the per-module time table");
  cmd->add_flag(
      "--torch", args->torch,
      "also run the PyTorch definition (python3 with torch, or $RTSEG_PYTHON) and print the ratio");
  cmd->add_option("--peers", args->peers,
                  "also run CPU engines on the same net with as many threads (comma list of "
                  "torch, torchscript, onnxruntime, openvino; python3 with them, or "
                  "$RTSEG_PYTHON) and print the ratios")
      ->check([](const std::string& list) -> std::string {
        std::string rest = list;
        while (!rest.empty()) {
          const size_t comma = rest.find(',');
          const std::string peer = rest.substr(0, comma);
          if (peer != "torch" && peer != "torchscript" && peer != "onnxruntime" &&
              peer != "openvino")
            return "unknown peer '" + peer + "' (torch, torchscript, onnxruntime, openvino)";
          rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
        }
        return "";
      });
  cmd->add_flag("--train", args->train,
                "time a training step instead (train mode, batch --batch at --size, forward, "
                "cross-entropy, backward, SGD); with --peers, PyTorch's eager step likewise");
  cmd->add_option("--batch", args->batch, "images per training step (with --train)")
      ->capture_default_str()
      ->check(at_least(1));
  cmd->add_flag("--json", args->json, "machine-readable output");
  cmd->callback([args, &context] { run_bench(*args, context); });

  auto kargs = std::make_shared<KernelArgs>();
  CLI::App* k = app.add_subcommand(
      "bench-kernels",
      "Time every distinct conv shape of CIFReNet, PIDNet-S and ICFRNet: ours vs cuDNN (GPU)");
  k->add_option("--repeats", kargs->repeats, "timed repeats per shape (median reported)")
      ->capture_default_str()
      ->check(at_least(1));
  k->add_flag("--tf32", kargs->tf32, "allow TF32 for cuDNN and cuBLAS");
  k->add_flag("--markdown", kargs->markdown, "print a Markdown table (for BENCHMARKS.md)");
  k->callback([kargs, &context] { run_kernels(*kargs, context); });
}

}  // namespace rtseg::app
