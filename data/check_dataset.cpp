#include "data/check_dataset.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

namespace rtseg::data {

namespace {

constexpr double kHighIgnoredShare = 0.5;  // above it, check-dataset warns

// What checking one sample found; merged into the report in index order.
struct SampleResult {
  bool done = false;
  int width = 0, height = 0;
  bool labelled = false;
  std::vector<uint64_t> class_pixels;
  uint64_t ignore_pixels = 0;
  std::map<int, uint64_t> out_of_range;
  std::optional<SampleProblem> problem;
};

SampleResult check_sample(const Dataset& dataset, size_t index, int classes) {
  SampleResult r;
  r.done = true;
  Sample s;
  try {
    s = dataset.get(index);
  } catch (const DataError& e) {
    r.problem = SampleProblem{index, e.kind(), e.what()};
    return r;
  } catch (const std::exception& e) {
    r.problem = SampleProblem{index, DataErrorKind::Corrupt, e.what()};
    return r;
  }
  r.width = s.image.width;
  r.height = s.image.height;
  if (s.label.empty()) return r;
  r.labelled = true;
  r.class_pixels.assign(size_t(std::max(classes, 0)), 0);
  const int ignore = dataset.ignore_index();
  // Count with a dense table over all int16 values, then sort the counts out.
  std::vector<uint64_t> counts(65536, 0);
  for (int16_t v : s.label.values) ++counts[uint16_t(v)];
  for (int v = -32768; v < 32768; ++v) {
    const uint64_t n = counts[uint16_t(v)];
    if (n == 0) continue;
    if (v >= 0 && v < classes) {
      r.class_pixels[size_t(v)] += n;
    } else if (v == ignore) {
      r.ignore_pixels += n;
    } else {
      r.out_of_range[v] += n;
    }
  }
  if (!r.out_of_range.empty()) {
    std::string values;
    for (const auto& [v, n] : r.out_of_range)
      values += fmt::format("{}{} ({} px)", values.empty() ? "" : ", ", v, n);
    r.problem = SampleProblem{
        index, DataErrorKind::Value,
        fmt::format("{}: label values neither a class id 0..{} nor the ignore value {}: {}",
                    dataset.describe(index), classes - 1, ignore, values)};
  }
  return r;
}

}  // namespace

uint64_t DatasetReport::labelled_pixels() const {
  uint64_t n = ignore_pixels;
  for (uint64_t c : class_pixels) n += c;
  for (const auto& kv : out_of_range) n += kv.second;
  return n;
}

size_t DatasetReport::count(DataErrorKind kind) const {
  return size_t(std::count_if(problems.begin(), problems.end(),
                              [kind](const SampleProblem& p) { return p.kind == kind; }));
}

double DatasetReport::class_share(int c) const {
  uint64_t total = 0;
  for (uint64_t n : class_pixels) total += n;
  if (total == 0 || c < 0 || size_t(c) >= class_pixels.size()) return 0.0;
  return double(class_pixels[size_t(c)]) / double(total);
}

std::string DatasetReport::summary() const {
  std::string out = fmt::format("dataset {}: {} samples checked, {} good, {} unlabelled\n", dataset,
                                samples, good, unlabelled);
  out += "image sizes:";
  for (const auto& [size, n] : image_sizes)
    out += fmt::format(" {}x{} ({})", size.first, size.second, n);
  out += "\n";
  const uint64_t total = labelled_pixels();
  out += fmt::format("label pixels: {} ({} ignored = {:.2f}%)\n", total, ignore_pixels,
                     total ? 100.0 * double(ignore_pixels) / double(total) : 0.0);
  for (size_t c = 0; c < class_pixels.size(); ++c) {
    const std::string name = c < class_names.size() ? class_names[c] : fmt::format("class {}", c);
    out += fmt::format("  {:>3} {:<16} {:>12} px  {:6.2f}%\n", c, name, class_pixels[c],
                       100.0 * class_share(int(c)));
  }
  for (const auto& [v, n] : out_of_range)
    out += fmt::format("  value {} is not a class and not ignore: {} px\n", v, n);
  for (DataErrorKind k :
       {DataErrorKind::MissingFile, DataErrorKind::Corrupt, DataErrorKind::Format,
        DataErrorKind::SizeMismatch, DataErrorKind::Syntax, DataErrorKind::Value}) {
    if (const size_t n = count(k))
      out += fmt::format("{}: {} sample{}\n", data_error_kind_name(k), n, n == 1 ? "" : "s");
  }
  for (const SampleProblem& p : problems)
    out += fmt::format("  warning: sample {}: {}\n", p.index, p.message);
  for (const std::string& e : split_errors) out += "error: " + e + "\n";
  for (const std::string& w : split_warnings) out += "warning: " + w + "\n";
  return out;
}

DatasetReport check_dataset(const Dataset& dataset, const CheckOptions& options) {
  DatasetReport report;
  report.dataset = dataset.info().name;
  report.class_names = dataset.class_names();
  report.ignore_index = dataset.ignore_index();
  const int classes = options.num_classes > 0 ? options.num_classes : dataset.num_classes();
  RTSEG_CHECK(classes > 0, "check_dataset: dataset '{}' names no classes; pass num_classes",
              report.dataset);
  report.class_pixels.assign(size_t(classes), 0);
  const size_t n =
      options.max_samples > 0 ? std::min(options.max_samples, dataset.size()) : dataset.size();

  // Samples are independent: threads take indices from a counter; results merge in index order.
  // Unreadable samples stop the check early unless skip_bad.
  std::vector<SampleResult> results(n);
  std::atomic<size_t> next{0};
  std::atomic<bool> abort{false};
  auto work = [&] {
    for (size_t i; !abort && (i = next++) < n;) {
      results[i] = check_sample(dataset, i, classes);
      if (!options.skip_bad && results[i].problem &&
          results[i].problem->kind != DataErrorKind::Value)
        abort = true;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < std::max(options.threads, 1); ++t) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();

  for (size_t i = 0; i < n; ++i) {
    SampleResult& r = results[i];
    if (!r.done) continue;
    if (r.problem && r.problem->kind != DataErrorKind::Value && !options.skip_bad) {
      throw DataError(r.problem->kind, r.problem->message);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    SampleResult& r = results[i];
    ++report.samples;
    if (r.problem) report.problems.push_back(*r.problem);
    if (r.problem && r.problem->kind != DataErrorKind::Value)
      continue;  // unreadable: nothing to count
    ++report.image_sizes[{r.width, r.height}];
    if (!r.labelled) ++report.unlabelled;
    for (size_t c = 0; c < r.class_pixels.size(); ++c) report.class_pixels[c] += r.class_pixels[c];
    report.ignore_pixels += r.ignore_pixels;
    for (const auto& [v, count] : r.out_of_range) report.out_of_range[v] += count;
    if (!r.problem) {
      ++report.good;
      report.good_indices.push_back(i);
    }
  }
  const uint64_t labelled = report.labelled_pixels();
  uint64_t class_pixels = 0;
  for (uint64_t c : report.class_pixels) class_pixels += c;
  const double ignored = labelled ? double(report.ignore_pixels) / double(labelled) : 0.0;
  if (labelled > 0 && class_pixels == 0) {
    report.split_errors.push_back(
        fmt::format("not a single label pixel is a class: all {} are the ignore value {} (do the "
                    "labels decode as "
                    "this dataset's? a colour list whose colours match nothing, or index labels "
                    "read as colours)",
                    labelled, report.ignore_index));
  } else if (ignored > kHighIgnoredShare) {
    report.split_warnings.push_back(
        fmt::format("{:.2f}% of the label pixels are the ignore value {}: check the label format "
                    "if that is not expected",
                    100.0 * ignored, report.ignore_index));
  }
  return report;
}

}  // namespace rtseg::data
