// The one escape the text form uses for bytes inside double quotes: printable ASCII stands for
// itself except `"` and `\`, which are `\"` and `\\`; newline and tab are `\n` and `\t`; every
// other byte is `\xHH` (two lowercase hex digits). So any byte string, UTF-8 or not, prints as
// plain ASCII and reads back exactly, and one byte string has one spelling.
// Header-only and dependency-free: the portable writer's messages use it too.
#pragma once

#include <string>
#include <string_view>

namespace vmreplay {

inline void AppendEscapedBytes(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(ch);
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '\t') {
      out->append("\\t");
    } else if (c < 0x20 || c >= 0x7f) {
      out->append("\\x");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    } else {
      out->push_back(ch);
    }
  }
}

inline std::string EscapeBytes(std::string_view s) {
  std::string out;
  AppendEscapedBytes(s, &out);
  return out;
}

// Reads back what AppendEscapedBytes wrote (hex digits in either case). False on a bad or
// unknown escape.
inline bool UnescapeBytes(std::string_view body, std::string* out) {
  out->clear();
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '"') return false;
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (++i >= body.size()) return false;
    switch (body[i]) {
      case '"':
      case '\\':
        out->push_back(body[i]);
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'x': {
        if (body.size() - i < 3) return false;
        const int h = hex(body[i + 1]), l = hex(body[i + 2]);
        if (h < 0 || l < 0) return false;
        out->push_back(static_cast<char>(h << 4 | l));
        i += 2;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

}  // namespace vmreplay
