#include <linkwatch/cidr.hpp>

#include <arpa/inet.h>

#include <cstring>

namespace linkwatch {

bool IpAddress::isV4() const noexcept {
  static const std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(bytes.data(), kMapped, sizeof kMapped) == 0;
}

std::string IpAddress::toString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (isV4()) {
    ::inet_ntop(AF_INET, bytes.data() + 12, text, sizeof text);
  } else {
    ::inet_ntop(AF_INET6, bytes.data(), text, sizeof text);
  }
  return text;
}

bool CidrRange::contains(const IpAddress& a) const noexcept {
  int bits = prefixBits;
  for (std::size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const unsigned mask = bits >= 8 ? 0xffu : (0xffu << (8 - bits)) & 0xffu;
    if (((a.bytes[i] ^ base.bytes[i]) & mask) != 0) return false;
  }
  return true;
}

bool parseIpAddress(const std::string& text, IpAddress& out) noexcept {
  out = IpAddress{};
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    out.bytes[10] = 0xff;
    out.bytes[11] = 0xff;
    std::memcpy(out.bytes.data() + 12, &v4, 4);
    return true;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    std::memcpy(out.bytes.data(), &v6, 16);
    return true;
  }
  return false;
}

bool parseCidr(const std::string& text, CidrRange& out) noexcept {
  const std::size_t slash = text.find('/');
  const std::string address = text.substr(0, slash);
  if (!parseIpAddress(address, out.base)) return false;
  const int width = out.base.isV4() ? 32 : 128;
  int prefix = width;
  if (slash != std::string::npos) {
    const std::string digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return false;
    prefix = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return false;
      prefix = prefix * 10 + (c - '0');
    }
    if (prefix > width) return false;
  }
  out.prefixBits = prefix + (128 - width);
  return true;
}

bool parseCidrList(const std::string& text, std::vector<CidrRange>& out, std::string& bad) {
  out.clear();
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(pos, comma - pos);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.erase(0, 1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.pop_back();
    CidrRange range;
    if (!parseCidr(item, range)) {
      bad = item;
      return false;
    }
    out.push_back(range);
    pos = comma + 1;
  }
  return !out.empty();
}

}  // namespace linkwatch
