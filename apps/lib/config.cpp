#include "apps/lib/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "apps/lib/value_range.h"
#include "kernels/error.h"

namespace rtseg::app {

namespace {

const char* kind_name(ValueKind k) {
  switch (k) {
    case ValueKind::Int:
      return "an integer";
    case ValueKind::Float:
      return "a number";
    case ValueKind::Bool:
      return "true or false";
    case ValueKind::String:
      return "a string";
    case ValueKind::IntList:
      return "a list of integers, e.g. [512, 1024]";
    case ValueKind::FloatList:
      return "a list of numbers, e.g. [0.5, 1.0]";
  }
  return "?";
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool parse_int_text(const std::string& text, int64_t& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end != text.c_str() + text.size()) return false;
  out = v;
  return true;
}

bool parse_float_text(const std::string& text, double& out) {
  const std::string t = lower(text);
  // YAML's spellings of the special values, and the ones people type.
  if (t == ".nan" || t == "nan") return out = NAN, true;
  if (t == ".inf" || t == "+.inf" || t == "inf") return out = INFINITY, true;
  if (t == "-.inf" || t == "-inf") return out = -INFINITY, true;
  if (text.empty()) return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

bool parse_bool_text(const std::string& text, bool& out) {
  const std::string t = lower(text);
  if (t == "true" || t == "yes" || t == "on") return out = true, true;
  if (t == "false" || t == "no" || t == "off") return out = false, true;
  return false;
}

std::string float_text(double v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  std::string s = fmt::format("{}", v);  // shortest text that reads back to the same double
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

ConfigValue parse_value(const KeySpec& spec, const YAML::Node& node, const std::string& where) {
  auto bad = [&](const std::string& got) -> ConfigValue {
    fail("{}: {}: expected {}, got {}", where, spec.key, kind_name(spec.kind), got);
  };
  auto scalar_of = [&](const YAML::Node& n) -> std::string {
    if (n.IsScalar()) return n.Scalar();
    if (n.IsNull()) return "";
    bad(n.IsSequence() ? "a list" : "a map");
    return "";
  };
  switch (spec.kind) {
    case ValueKind::Int: {
      const std::string t = scalar_of(node);
      int64_t v;
      if (!parse_int_text(t, v)) return bad(fmt::format("'{}'", t));
      return v;
    }
    case ValueKind::Float: {
      const std::string t = scalar_of(node);
      double v;
      if (!parse_float_text(t, v)) return bad(fmt::format("'{}'", t));
      return v;
    }
    case ValueKind::Bool: {
      const std::string t = scalar_of(node);
      bool v;
      if (!parse_bool_text(t, v)) return bad(fmt::format("'{}'", t));
      return v;
    }
    case ValueKind::String:
      return scalar_of(node);
    case ValueKind::IntList:
    case ValueKind::FloatList: {
      if (node.IsNull()) {
        if (spec.kind == ValueKind::IntList) return std::vector<int64_t>{};
        return std::vector<double>{};
      }
      if (!node.IsSequence())
        return bad(node.IsMap() ? "a map" : fmt::format("'{}'", node.Scalar()));
      std::vector<int64_t> ints;
      std::vector<double> floats;
      for (const YAML::Node& item : node) {
        const std::string t = item.IsScalar() ? item.Scalar() : std::string("<nested>");
        if (spec.kind == ValueKind::IntList) {
          int64_t v;
          if (!parse_int_text(t, v)) return bad(fmt::format("a list holding '{}'", t));
          ints.push_back(v);
        } else {
          double v;
          if (!parse_float_text(t, v)) return bad(fmt::format("a list holding '{}'", t));
          floats.push_back(v);
        }
      }
      if (spec.kind == ValueKind::IntList) return ints;
      return floats;
    }
  }
  return bad("?");
}

// The value, checked against the key's range (every element of a list).
ConfigValue node_to_value(const KeySpec& spec, const YAML::Node& node, const std::string& where) {
  ConfigValue value = parse_value(spec, node, where);
  if (spec.range.empty()) return value;
  const ValueRange range = ValueRange::parse(spec.range);
  auto check = [&](double v, bool element) {
    RTSEG_CHECK(range.contains(v), "{}: {}{} must be {}, got {}", where,
                element ? "each value of " : "", spec.key, range.text(), v);
  };
  if (const auto* i = std::get_if<int64_t>(&value)) check(double(*i), false);
  if (const auto* f = std::get_if<double>(&value)) check(*f, false);
  if (const auto* is = std::get_if<std::vector<int64_t>>(&value))
    for (int64_t v : *is) check(double(v), true);
  if (const auto* fs = std::get_if<std::vector<double>>(&value))
    for (double v : *fs) check(v, true);
  return value;
}

YAML::Node parse_yaml(const std::string& text, const std::string& source) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail("{}: not valid YAML: {}", source, e.what());
  }
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

Config::Config(std::vector<KeySpec> schema) : schema_(std::move(schema)) {
  for (const KeySpec& s : schema_) {
    RTSEG_CHECK(!values_.count(s.key), "config schema: duplicate key '{}'", s.key);
    values_[s.key] = node_to_value(s, parse_yaml(s.default_value, "schema"), "schema default");
  }
}

std::string Config::valid_keys() const {
  std::string out;
  for (const KeySpec& s : schema_) out += (out.empty() ? "" : ", ") + s.key;
  return out;
}

bool Config::has_key(const std::string& key) const { return values_.count(key) != 0; }

const KeySpec& Config::spec(const std::string& key, const std::string& source) const {
  for (const KeySpec& s : schema_) {
    if (s.key == key) return s;
  }
  std::string best;
  size_t best_distance = 4;  // suggest only near misses
  for (const KeySpec& s : schema_) {
    const size_t d = edit_distance(key, s.key);
    if (d < best_distance) best_distance = d, best = s.key;
  }
  const std::string hint = best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best);
  fail("{}: unknown key '{}'{}; valid keys: {}", source, key, hint, valid_keys());
}

void Config::merge_yaml_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  RTSEG_CHECK(in.good(), "config file '{}' cannot be read (missing or not readable)", path);
  std::stringstream text;
  text << in.rdbuf();
  merge_yaml_text(text.str(), path);
}

void Config::merge_yaml_text(const std::string& text, const std::string& source) {
  const YAML::Node root = parse_yaml(text, source);
  if (root.IsNull()) return;
  RTSEG_CHECK(root.IsMap(), "{}: expected a map of sections (model:, data:, train:, ...)", source);
  // Walks nested maps; a name is either a schema key (a leaf) or a prefix of some (a section).
  std::vector<std::pair<std::string, YAML::Node>> stack;
  // A key given twice (YAML itself lets the first win) is an error naming both lines.
  std::map<std::string, int> line_of;
  auto push = [&](const std::string& key, const YAML::Node& name, const YAML::Node& value) {
    const int line = name.Mark().line + 1;
    const auto [it, fresh] = line_of.emplace(key, line);
    RTSEG_CHECK(fresh, "{}: '{}' is set twice, on lines {} and {}", source, key, it->second, line);
    stack.emplace_back(key, value);
  };
  for (const auto& kv : root) push(kv.first.Scalar(), kv.first, kv.second);
  while (!stack.empty()) {
    auto [key, node] = stack.back();
    stack.pop_back();
    if (values_.count(key)) {
      values_[key] = node_to_value(spec(key, source), node, source);
      explicitly_set_[key] = true;
      continue;
    }
    const bool is_section = std::any_of(schema_.begin(), schema_.end(), [&](const KeySpec& s) {
      return s.key.compare(0, key.size() + 1, key + ".") == 0;
    });
    if (!is_section) spec(key, source);  // throws: unknown key, with suggestions
    RTSEG_CHECK(node.IsMap() || node.IsNull(), "{}: '{}' is a section and must hold keys ({}.*)",
                source, key, key);
    if (node.IsNull()) continue;
    for (const auto& kv : node) push(key + "." + kv.first.Scalar(), kv.first, kv.second);
  }
}

void Config::set(const std::string& key, const std::string& yaml_value, const std::string& source) {
  const KeySpec& s = spec(key, source);
  if (s.kind == ValueKind::String) {
    // Paths and names as typed: no YAML interpretation of ':' or '#', only outer quotes dropped.
    std::string v = yaml_value;
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
      v = v.substr(1, v.size() - 2);
    }
    values_[key] = v;
  } else {
    values_[key] = node_to_value(s, parse_yaml(yaml_value, source), source);
  }
  explicitly_set_[key] = true;
}

void Config::apply_override(const std::string& assignment) {
  const size_t eq = assignment.find('=');
  RTSEG_CHECK(eq != std::string::npos && eq > 0,
              "override '{}' is not KEY=VALUE (e.g. train.lr=0.01)", assignment);
  set(assignment.substr(0, eq), assignment.substr(eq + 1), "override '" + assignment + "'");
}

const ConfigValue& Config::value(const std::string& key, ValueKind kind) const {
  const KeySpec& s = spec(key, "config");
  RTSEG_CHECK(s.kind == kind, "config: key '{}' is read as {} but holds {}", key, kind_name(kind),
              kind_name(s.kind));
  return values_.at(key);
}

int64_t Config::get_int(const std::string& key) const {
  return std::get<int64_t>(value(key, ValueKind::Int));
}
double Config::get_float(const std::string& key) const {
  return std::get<double>(value(key, ValueKind::Float));
}
bool Config::get_bool(const std::string& key) const {
  return std::get<bool>(value(key, ValueKind::Bool));
}
const std::string& Config::get_string(const std::string& key) const {
  return std::get<std::string>(value(key, ValueKind::String));
}
const std::vector<int64_t>& Config::get_ints(const std::string& key) const {
  return std::get<std::vector<int64_t>>(value(key, ValueKind::IntList));
}
const std::vector<double>& Config::get_floats(const std::string& key) const {
  return std::get<std::vector<double>>(value(key, ValueKind::FloatList));
}

std::string Config::value_text(const std::string& key) const {
  const ConfigValue& v = values_.at(spec(key, "config").key);
  struct Printer {
    std::string operator()(int64_t x) const { return std::to_string(x); }
    std::string operator()(double x) const { return float_text(x); }
    std::string operator()(bool x) const { return x ? "true" : "false"; }
    std::string operator()(const std::string& x) const { return quoted(x); }
    std::string operator()(const std::vector<int64_t>& x) const {
      return "[" + fmt::format("{}", fmt::join(x, ", ")) + "]";
    }
    std::string operator()(const std::vector<double>& x) const {
      std::string out;
      for (double d : x) out += (out.empty() ? "" : ", ") + float_text(d);
      return "[" + out + "]";
    }
  };
  return std::visit(Printer{}, v);
}

std::string Config::to_yaml() const {
  std::string out, section;
  for (const KeySpec& s : schema_) {
    const size_t dot = s.key.find('.');
    const std::string sec = s.key.substr(0, dot);
    if (sec != section) {
      section = sec;
      out += sec + ":\n";
    }
    out += fmt::format("  {}: {}\n", s.key.substr(dot + 1), value_text(s.key));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> Config::differences(const Config& other) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const KeySpec& s : schema_) {
    if (!other.has_key(s.key)) continue;
    const std::string a = value_text(s.key), b = other.value_text(s.key);
    if (a != b) out.emplace_back(s.key, a + " -> " + b);
  }
  return out;
}

std::string describe_keys(const std::vector<KeySpec>& schema) {
  size_t width = 0;
  for (const KeySpec& s : schema)
    width = std::max(width, s.key.size() + s.default_value.size() + 3);
  std::string out;
  for (const KeySpec& s : schema) {
    const std::string range = s.range.empty() ? "" : " (" + ValueRange::parse(s.range).text() + ")";
    out += fmt::format("{:<{}}  {}{}\n", s.key + " = " + s.default_value, width, s.help, range);
  }
  return out;
}

std::pair<int64_t, int64_t> parse_size(const std::string& text, const std::string& what) {
  const size_t sep = text.find_first_of("xX,");
  int64_t h = 0, w = 0;
  const bool ok = sep != std::string::npos && parse_int_text(text.substr(0, sep), h) &&
                  parse_int_text(text.substr(sep + 1), w) && h >= 1 && w >= 1;
  RTSEG_CHECK(ok, "{}: expected HEIGHTxWIDTH (e.g. 512x1024), got '{}'", what, text);
  RTSEG_CHECK(h <= kMaxImageSide && w <= kMaxImageSide, "{}: {}x{} is larger than {} on a side",
              what, h, w, kMaxImageSide);
  return {h, w};
}

}  // namespace rtseg::app
