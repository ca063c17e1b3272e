#include "http/basic_auth.hpp"

#include <algorithm>

namespace linkwatch {
namespace {

int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool iequalsPrefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char a = static_cast<char>(s[i] | 0x20);
    const char b = static_cast<char>(prefix[i] | 0x20);
    if (a != b) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> decodeBase64(std::string_view text) {
  constexpr std::size_t kMaxDecoded = 4096;
  if (text.size() % 4 != 0 || text.size() / 4 * 3 > kMaxDecoded) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int padding = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + static_cast<std::size_t>(k)];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        v[k] = 0;
        ++padding;
        continue;
      }
      if (padding > 0) return std::nullopt;  // data after padding
      v[k] = base64Value(c);
      if (v[k] < 0) return std::nullopt;
    }
    const unsigned triple = (static_cast<unsigned>(v[0]) << 18) |
                            (static_cast<unsigned>(v[1]) << 12) |
                            (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
    out.push_back(static_cast<char>((triple >> 16) & 0xff));
    if (padding < 2) out.push_back(static_cast<char>((triple >> 8) & 0xff));
    if (padding < 1) out.push_back(static_cast<char>(triple & 0xff));
  }
  return out;
}

bool basicAuthAccepts(const Secrets& secrets, const char* authorization) {
  if (authorization == nullptr) return false;
  std::string_view header(authorization);
  if (!iequalsPrefix(header, "Basic ")) return false;
  header.remove_prefix(6);
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
  std::optional<std::string> decoded = decodeBase64(header);
  if (!decoded) return false;
  const std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) return false;
  const bool ok = secrets.checkHttpUser(decoded->substr(0, colon), decoded->substr(colon + 1));
  std::fill(decoded->begin(), decoded->end(), '\0');
  return ok;
}

}  // namespace linkwatch
