#include "identifier.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iterator>

#include "pyfresh/quote.h"
#include "text.h"

namespace pyfresh {
namespace internal {
namespace {

struct CodePointRange {
  uint32_t first;
  uint32_t last;
};

#include "identifier_tables.inc"

// keyword.kwlist of CPython 3.11 (soft keywords such as "match" are valid
// module names).
constexpr std::string_view kKeywords[] = {
    "False",  "None",     "True",    "and",    "as",       "assert", "async",  "await",  "break",
    "class",  "continue", "def",     "del",    "elif",     "else",   "except", "finally", "for",
    "from",   "global",   "if",      "import", "in",       "is",     "lambda", "nonlocal", "not",
    "or",     "pass",     "raise",   "return", "try",      "while",  "with",   "yield",
};

// The longest name a module file or package directory can have (NAME_MAX).
constexpr size_t kMaxComponentBytes = 255;

bool IsKeyword(std::string_view word) {
  return std::find(std::begin(kKeywords), std::end(kKeywords), word) != std::end(kKeywords);
}

template <size_t N>
bool InTable(const CodePointRange (&table)[N], uint32_t code) {
  const CodePointRange* end = table + N;
  const CodePointRange* it =
      std::upper_bound(table, end, code, [](uint32_t c, const CodePointRange& r) { return c < r.first; });
  return it != table && code <= (it - 1)->last;
}

bool IsStart(uint32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  return InTable(kXidStart, c);
}

bool IsContinue(uint32_t c) {
  if (c < 0x80) return IsStart(c) || (c >= '0' && c <= '9');
  return InTable(kXidContinue, c);
}

// Decodes one UTF-8 sequence at text[*i] (strict: no overlong forms, no
// surrogates, nothing above U+10FFFF). False when the bytes are not UTF-8.
bool DecodeUtf8(std::string_view text, size_t* i, uint32_t* out) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(*i);
  size_t length = 0;
  uint32_t code = 0;
  uint32_t minimum = 0;
  if (lead < 0x80) {
    *out = lead;
    ++*i;
    return true;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2, code = lead & 0x1F, minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code = lead & 0x0F, minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code = lead & 0x07, minimum = 0x10000;
  } else {
    return false;
  }
  if (*i + length > text.size()) return false;
  for (size_t k = 1; k < length; ++k) {
    const unsigned char next = byte(*i + k);
    if ((next & 0xC0) != 0x80) return false;
    code = (code << 6) | (next & 0x3F);
  }
  if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
  *out = code;
  *i += length;
  return true;
}

std::string CodePointName(uint32_t code) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "U+%04X", static_cast<unsigned>(code));
  return buffer;
}

// `component` is valid UTF-8, non-empty, without '.'.
std::string ComponentProblem(std::string_view component) {
  size_t i = 0;
  bool first = true;
  while (i < component.size()) {
    const size_t at = i;
    uint32_t code = 0;
    DecodeUtf8(component, &i, &code);
    if (first ? IsStart(code) : IsContinue(code)) {
      first = false;
      continue;
    }
    if (first && code >= '0' && code <= '9') return QuoteForMessage(component) + " starts with a digit";
    std::string shown = QuoteForMessage(component.substr(at, i - at));
    if (code >= 0x80) shown += " (" + CodePointName(code) + ")";
    return shown + (first && IsContinue(code) ? " cannot start a Python identifier"
                                              : " cannot appear in a Python identifier");
  }
  if (IsKeyword(component)) return QuoteForMessage(component) + " is a Python keyword";
  if (component.size() > kMaxComponentBytes) {
    return "a component of " + std::to_string(component.size()) +
           " bytes is longer than 255 (no file or directory name can be)";
  }
  return {};
}

}  // namespace

std::string DottedIdentifierProblem(std::string_view name) {
  if (name.empty()) return "empty";
  for (char c : name) {
    if (IsAsciiSpace(c)) return "contains whitespace";
  }
  for (char c : name) {
    if (IsControlByte(static_cast<unsigned char>(c))) return "contains a control character";
  }
  for (size_t i = 0; i < name.size();) {
    uint32_t code = 0;
    if (!DecodeUtf8(name, &i, &code)) return "is not valid UTF-8 (module names are text)";
  }
  if (name.size() > kMaxPathBytes) {
    return "is " + std::to_string(name.size()) + " bytes long (a module's path cannot exceed 4095 bytes)";
  }
  if (name.front() == '.') return "starts with '.'";
  if (name.back() == '.') return "ends with '.'";
  if (name.find("..") != std::string_view::npos) return "contains an empty component ('..')";
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    std::string problem = ComponentProblem(name.substr(start, dot - start));
    if (!problem.empty()) return problem;
    start = dot + 1;
  }
  return {};
}

bool IsDottedIdentifier(std::string_view name) { return DottedIdentifierProblem(name).empty(); }

}  // namespace internal
}  // namespace pyfresh
