#include "apps/lib/output_names.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace rtseg::app {

namespace {

// The same file however it was spelt (a relative path, ./x, a symlinked folder).
std::string identity(const std::string& file) {
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(fs::absolute(file), ec);
  return ec ? fs::absolute(file).lexically_normal().string() : p.string();
}

fs::path common_folder(const std::vector<fs::path>& folders) {
  fs::path common = folders.front();
  for (const fs::path& f : folders) {
    fs::path shared;
    for (auto a = common.begin(), b = f.begin(); a != common.end() && b != f.end() && *a == *b;
         ++a, ++b) {
      shared /= *a;
    }
    common = shared;
  }
  return common;
}

}  // namespace

NamedInputs name_outputs(const std::vector<std::string>& files) {
  NamedInputs r;
  std::vector<fs::path> paths;         // canonical, by kept file
  std::map<std::string, size_t> seen;  // identity -> times given
  for (const std::string& file : files) {
    const std::string id = identity(file);
    if (seen[id]++ == 0) {
      r.files.push_back(file);
      paths.emplace_back(id);
    }
  }
  for (size_t i = 0; i < r.files.size(); ++i) {
    const size_t times = seen[paths[i].string()];
    if (times > 1)
      r.notes.push_back(fmt::format("{} was given {} times: predicted once", r.files[i], times));
  }

  std::map<std::string, std::vector<size_t>> by_stem;
  for (size_t i = 0; i < paths.size(); ++i) by_stem[paths[i].stem().string()].push_back(i);
  r.names.resize(r.files.size());
  for (const auto& [stem, group] : by_stem) {
    if (group.size() == 1) {
      r.names[group.front()] = stem;
      continue;
    }
    std::vector<fs::path> folders;
    std::map<fs::path, int> per_folder;
    for (size_t i : group) {
      folders.push_back(paths[i].parent_path());
      ++per_folder[paths[i].parent_path()];
    }
    const fs::path common = common_folder(folders);
    for (size_t i : group) {
      const fs::path below = paths[i].parent_path().lexically_relative(common);
      const fs::path leaf =
          per_folder[paths[i].parent_path()] > 1 ? paths[i].filename() : paths[i].stem();
      r.names[i] = (below == "." || below.empty() ? leaf : below / leaf).generic_string();
    }
    r.notes.push_back(
        fmt::format("{} inputs are named {}: their outputs are {}", group.size(), stem, [&] {
          std::string list;
          for (size_t i : group) list += (list.empty() ? "" : ", ") + r.names[i] + "_*";
          return list;
        }()));
  }
  // A name chosen above can still equal another file's stem (a.jpg.png beside a.jpg and a.png).
  std::set<std::string> taken;
  for (size_t i = 0; i < r.names.size(); ++i) {
    std::string name = r.names[i];
    for (int n = 2; taken.count(name); ++n) name = fmt::format("{}~{}", r.names[i], n);
    if (name != r.names[i])
      r.notes.push_back(
          fmt::format("{}: outputs named {}_* (the name was taken)", r.files[i], name));
    r.names[i] = name;
    taken.insert(name);
  }
  return r;
}

}  // namespace rtseg::app
