// Address ranges for AllowedSourceAddresses: "10.1.0.0/16", "127.0.0.1" (a /32), "::1/128".
// IPv4-mapped IPv6 peers (::ffff:a.b.c.d) match IPv4 ranges.
//
// This header is included by the C++14 QuickFIX adapter: keep it C++14-clean.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace linkwatch {

// An IPv4 or IPv6 address in network byte order; IPv4 is kept as IPv4-mapped IPv6.
struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};
  bool isV4() const noexcept;
  std::string toString() const;  // "10.1.2.3" or "2001:db8::1"
};

struct CidrRange {
  IpAddress base;
  int prefixBits = 0;  // of the 128-bit (mapped) form
  bool contains(const IpAddress& a) const noexcept;
};

// false when `text` is not an address or address/prefix (prefix 0..32 for IPv4, 0..128 IPv6).
bool parseIpAddress(const std::string& text, IpAddress& out) noexcept;
bool parseCidr(const std::string& text, CidrRange& out) noexcept;

// "10.0.0.0/8, 127.0.0.1": the ranges, or false with the first bad item in `bad`.
bool parseCidrList(const std::string& text, std::vector<CidrRange>& out, std::string& bad);

}  // namespace linkwatch
