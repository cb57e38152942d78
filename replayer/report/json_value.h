// A small JSON reader for the files vmreplay itself writes (replay results, gate baselines).
// Boost 1.74 (Debian 12) has no Boost.JSON, and the files are small, so a tree is fine.
//
// Numbers are doubles (exact for integers up to 2^53: byte counts and event counts fit). Object
// members keep their order. Errors name the byte offset.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/status.h"

namespace vmreplay::json {

class Value {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_object() const { return kind_ == Kind::kObject; }
  bool is_array() const { return kind_ == Kind::kArray; }

  bool boolean() const { return bool_; }
  double number() const { return number_; }
  const std::string& string() const { return string_; }
  const std::vector<Value>& array() const { return array_; }
  const std::vector<std::pair<std::string, Value>>& members() const { return members_; }
  // Member `key` of an object; nullptr when absent or not an object.
  const Value* Find(std::string_view key) const;

  static Value Null() { return Value(); }
  static Value Bool(bool b);
  static Value Number(double d);
  static Value String(std::string s);
  static Value Array(std::vector<Value> a);
  static Value Object(std::vector<std::pair<std::string, Value>> m);

 private:
  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Value> array_;
  std::vector<std::pair<std::string, Value>> members_;
};

Status Parse(std::string_view text, Value* out);
// Reads and parses a file; errors start with the path.
Status ParseFile(const std::string& path, Value* out);
// `s` as a JSON string literal, quotes included.
std::string Quote(std::string_view s);

}  // namespace vmreplay::json
