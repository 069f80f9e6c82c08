#include "layers/state_dict.h"

#include <cmath>
#include <set>

#include "core/autograd.h"
#include "core/safetensors.h"

namespace rtseg {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void append_list(std::string& out, const char* label, const std::vector<std::string>& keys) {
  if (keys.empty()) return;
  out += fmt::format("\n  {} ({}):", label, keys.size());
  const size_t shown = std::min<size_t>(keys.size(), 20);
  for (size_t i = 0; i < shown; ++i) out += "\n    " + keys[i];
  if (keys.size() > shown) out += fmt::format("\n    ... and {} more", keys.size() - shown);
}

}  // namespace

std::string LoadReport::summary() const {
  std::string out =
      fmt::format("{} loaded, {} missing, {} unexpected, {} shape mismatches", loaded.size(),
                  missing.size(), unexpected.size(), mismatched.size());
  if (!absent_optional.empty()) out += fmt::format(", {} optional absent", absent_optional.size());
  append_list(out, "missing", missing);
  append_list(out, "unexpected", unexpected);
  append_list(out, "shape mismatches", mismatched);
  return out;
}

std::string strip_wrapper_prefixes(const std::string& key) {
  static const char* kPrefixes[] = {"module.", "model.", "_orig_mod."};
  std::string k = key;
  for (bool changed = true; changed;) {
    changed = false;
    for (const char* p : kPrefixes) {
      const std::string prefix(p);
      if (k.size() > prefix.size() && k.compare(0, prefix.size(), prefix) == 0) {
        k = k.substr(prefix.size());
        changed = true;
      }
    }
  }
  return k;
}

int64_t count_non_finite(const Tensor& t) {
  if (!is_floating(t.dtype())) return 0;
  int64_t n = 0;
  for (double v : t.to_doubles()) n += !std::isfinite(v);
  return n;
}

LoadReport load_state_dict(Module& module, const std::map<std::string, Tensor>& source_in,
                           bool strict) {
  std::map<std::string, Tensor> source;
  for (const auto& [key, t] : source_in) {
    const std::string k = strip_wrapper_prefixes(key);
    RTSEG_CHECK(source.count(k) == 0, "load_state_dict: keys '{}' and another one both map to '{}'",
                key, k);
    source[k] = t;
  }
  LoadReport report;
  std::vector<std::pair<Tensor, Tensor>> copies;  // (destination, source)
  std::set<std::string> used;
  for (const auto& [key, dst] : module.state_dict()) {
    auto it = source.find(key);
    if (it == source.end()) {
      (ends_with(key, "num_batches_tracked") ? report.absent_optional : report.missing)
          .push_back(key);
      continue;
    }
    used.insert(key);
    const Tensor& src = it->second;
    if (src.shape() != dst.shape()) {
      report.mismatched.push_back(fmt::format("{}: model {} vs source {}", key,
                                              shape_str(dst.shape()), shape_str(src.shape())));
      continue;
    }
    if (const int64_t bad = count_non_finite(src)) {
      fail(
          "load_state_dict: '{}' holds {} non-finite value{} (NaN or Inf) of {}; refusing these "
          "weights",
          key, bad, bad == 1 ? "" : "s", src.numel());
    }
    report.loaded.push_back(key);
    copies.emplace_back(dst, src);
  }
  for (const auto& [key, t] : source) {
    if (!used.count(key)) report.unexpected.push_back(key);
  }
  if (strict && !report.clean()) fail("load_state_dict (strict): {}", report.summary());
  autograd::NoGradGuard no_grad;
  for (auto& [dst, src] : copies) dst.copy_from(src.to(dst.dtype()).to(dst.device()));
  return report;
}

LoadReport load_safetensors(Module& module, const std::string& path, bool strict) {
  SafetensorsFile file = SafetensorsFile::read(path);
  std::map<std::string, Tensor> source;
  for (const std::string& name : file.names()) source[name] = file.tensor(name);
  try {
    return load_state_dict(module, source, strict);
  } catch (const Error& e) {
    fail("{}: {}", path, e.what());
  }
}

}  // namespace rtseg
