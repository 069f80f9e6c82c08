// Configuration files: a fixed schema of dotted keys ("train.lr"), each with a type, a default
// and a line of help, filled from YAML files (nested maps: `train: {lr: 0.01}`) and from
// `KEY=VALUE` overrides on the command line. Every value is type-checked when it is set, and a key
// that is not in the schema is an error that names the source and lists the valid keys, so a typo
// never silently trains with a default.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace rtseg::app {

enum class ValueKind { Int, Float, Bool, String, IntList, FloatList };

struct KeySpec {
  std::string key;  // "section.name"
  ValueKind kind;
  std::string default_value;  // YAML text: "0.01", "[512, 1024]", "''"
  std::string help;
  // Numeric keys: the allowed values as an interval (apps/lib/value_range.h), for each element
  // of a list; checked wherever a value is set. Empty: any value of the kind.
  std::string range = "";
};

using ConfigValue =
    std::variant<int64_t, double, bool, std::string, std::vector<int64_t>, std::vector<double>>;

class Config {
 public:
  // Every key at its default (defaults are parsed here: a bad default is a programming error).
  explicit Config(std::vector<KeySpec> schema);

  // Merges a YAML document: each leaf of nested maps is a dotted key of the schema. `source`
  // names the file in errors ("configs/x.yaml: train.lr: expected a number, got 'fast'").
  void merge_yaml_file(const std::string& path);
  void merge_yaml_text(const std::string& text, const std::string& source);
  // "train.lr=0.02", "data.crop=[256, 512]": the value is read as YAML.
  void apply_override(const std::string& assignment);
  // Sets one key from YAML text.
  void set(const std::string& key, const std::string& yaml_value, const std::string& source);

  bool has_key(const std::string& key) const;
  // Whether a file or an override set the key (otherwise it holds its default).
  bool is_set(const std::string& key) const { return explicitly_set_.count(key) != 0; }

  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  const std::string& get_string(const std::string& key) const;
  const std::vector<int64_t>& get_ints(const std::string& key) const;
  const std::vector<double>& get_floats(const std::string& key) const;

  // The value as YAML text ("0.01", "[512, 1024]", "\"cifrenet\"").
  std::string value_text(const std::string& key) const;
  // The whole resolved configuration as YAML, one section per first key component, in schema
  // order. Loading it back gives the same configuration.
  std::string to_yaml() const;
  // Keys whose values differ from `other`'s (same schema): (key, "this -> other").
  std::vector<std::pair<std::string, std::string>> differences(const Config& other) const;

  const std::vector<KeySpec>& schema() const { return schema_; }
  // "model.name, model.classes, ..." for error messages.
  std::string valid_keys() const;

 private:
  const KeySpec& spec(const std::string& key, const std::string& source) const;
  const ConfigValue& value(const std::string& key, ValueKind kind) const;

  std::vector<KeySpec> schema_;
  std::map<std::string, ConfigValue> values_;
  std::map<std::string, bool> explicitly_set_;
};

// Every key of a schema with its default and help, one per line (for `rtseg train --keys`).
std::string describe_keys(const std::vector<KeySpec>& schema);

// The largest image side a size flag or key accepts (a 16384² float image is 3 GiB already).
constexpr int64_t kMaxImageSide = 16384;
// "HxW" or "H,W" → {H, W} (both in [1, kMaxImageSide]); `what` names the flag in errors.
std::pair<int64_t, int64_t> parse_size(const std::string& text, const std::string& what);

}  // namespace rtseg::app
