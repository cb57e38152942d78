#include "replayer/report/json_value.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "replayer/report/json_quote.h"

namespace vmreplay::json {

const Value* Value::Find(std::string_view key) const {
  for (const auto& [k, v] : members_) {
    if (k == key) return &v;
  }
  return nullptr;
}

Value Value::Bool(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.bool_ = b;
  return v;
}
Value Value::Number(double d) {
  Value v;
  v.kind_ = Kind::kNumber;
  v.number_ = d;
  return v;
}
Value Value::String(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.string_ = std::move(s);
  return v;
}
Value Value::Array(std::vector<Value> a) {
  Value v;
  v.kind_ = Kind::kArray;
  v.array_ = std::move(a);
  return v;
}
Value Value::Object(std::vector<std::pair<std::string, Value>> m) {
  Value v;
  v.kind_ = Kind::kObject;
  v.members_ = std::move(m);
  return v;
}

namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Status ParseDocument(Value* out) {
    VMREPLAY_RETURN_IF_ERROR(ParseValue(out, 0));
    Skip();
    if (pos_ != s_.size()) return Fail("trailing characters");
    return Status::Ok();
  }

 private:
  static constexpr int kMaxDepth = 64;

  Status Fail(const std::string& what) const {
    return Status::Error("JSON: " + what + " at byte " + std::to_string(pos_));
  }
  void Skip() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) {
      ++pos_;
    }
  }
  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Status ParseValue(Value* out, int depth) {
    if (depth > kMaxDepth) return Fail("nesting too deep");
    Skip();
    if (pos_ >= s_.size()) return Fail("unexpected end");
    const char c = s_[pos_];
    if (c == '{') return ParseObject(out, depth);
    if (c == '[') return ParseArray(out, depth);
    if (c == '"') {
      std::string str;
      VMREPLAY_RETURN_IF_ERROR(ParseString(&str));
      *out = Value::String(std::move(str));
      return Status::Ok();
    }
    if (Literal("true")) {
      *out = Value::Bool(true);
      return Status::Ok();
    }
    if (Literal("false")) {
      *out = Value::Bool(false);
      return Status::Ok();
    }
    if (Literal("null")) {
      *out = Value::Null();
      return Status::Ok();
    }
    return ParseNumber(out);
  }

  Status ParseNumber(Value* out) {
    const size_t start = pos_;
    while (pos_ < s_.size() &&
           std::string_view("+-0123456789.eE").find(s_[pos_]) != std::string_view::npos) {
      ++pos_;
    }
    if (start == pos_) return Fail("unexpected character");
    const std::string text(s_.substr(start, pos_ - start));
    char* end = nullptr;
    const double d = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size()) return Fail("bad number '" + text + "'");
    *out = Value::Number(d);
    return Status::Ok();
  }

  Status ParseString(std::string* out) {
    ++pos_;  // opening quote
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == '"') return Status::Ok();
      if (c != '\\') {
        *out += c;
        continue;
      }
      if (pos_ >= s_.size()) break;
      const char e = s_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          *out += e;
          break;
        case 'n':
          *out += '\n';
          break;
        case 't':
          *out += '\t';
          break;
        case 'r':
          *out += '\r';
          break;
        case 'b':
          *out += '\b';
          break;
        case 'f':
          *out += '\f';
          break;
        case 'u': {
          if (pos_ + 4 > s_.size()) return Fail("short \\u escape");
          const unsigned cp = std::strtoul(std::string(s_.substr(pos_, 4)).c_str(), nullptr, 16);
          pos_ += 4;
          // UTF-8 encoding of the BMP code point (surrogate pairs are not produced by vmreplay).
          if (cp < 0x80) {
            *out += static_cast<char>(cp);
          } else if (cp < 0x800) {
            *out += static_cast<char>(0xc0 | (cp >> 6));
            *out += static_cast<char>(0x80 | (cp & 0x3f));
          } else {
            *out += static_cast<char>(0xe0 | (cp >> 12));
            *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            *out += static_cast<char>(0x80 | (cp & 0x3f));
          }
          break;
        }
        default:
          return Fail("bad escape");
      }
    }
    return Fail("unterminated string");
  }

  Status ParseArray(Value* out, int depth) {
    ++pos_;
    std::vector<Value> items;
    Skip();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      *out = Value::Array(std::move(items));
      return Status::Ok();
    }
    while (true) {
      Value v;
      VMREPLAY_RETURN_IF_ERROR(ParseValue(&v, depth + 1));
      items.push_back(std::move(v));
      Skip();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        break;
      }
      return Fail("expected ',' or ']'");
    }
    *out = Value::Array(std::move(items));
    return Status::Ok();
  }

  Status ParseObject(Value* out, int depth) {
    ++pos_;
    std::vector<std::pair<std::string, Value>> members;
    Skip();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      *out = Value::Object(std::move(members));
      return Status::Ok();
    }
    while (true) {
      Skip();
      if (pos_ >= s_.size() || s_[pos_] != '"') return Fail("expected a member name");
      std::string key;
      VMREPLAY_RETURN_IF_ERROR(ParseString(&key));
      Skip();
      if (pos_ >= s_.size() || s_[pos_] != ':') return Fail("expected ':'");
      ++pos_;
      Value v;
      VMREPLAY_RETURN_IF_ERROR(ParseValue(&v, depth + 1));
      members.emplace_back(std::move(key), std::move(v));
      Skip();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        break;
      }
      return Fail("expected ',' or '}'");
    }
    *out = Value::Object(std::move(members));
    return Status::Ok();
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

Status Parse(std::string_view text, Value* out) { return Parser(text).ParseDocument(out); }

Status ParseFile(const std::string& path, Value* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  const Status s = Parse(ss.str(), out);
  if (!s.ok()) return Status::Error(path + ": " + s.message());
  return Status::Ok();
}

std::string Quote(std::string_view s) { return JsonQuote(s); }

}  // namespace vmreplay::json
