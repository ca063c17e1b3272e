// CRC-32C (Castagnoli), the checksum of every journal record and segment header. Table-driven,
// one byte at a time: the writer checksums kilobytes per second, not gigabytes, so a portable
// loop beats a dependency or an SSE4.2 code path.
#pragma once

#include <cstdint>
#include <string_view>

namespace linkwatch::journal {

// Continues `crc` (0 to start) over `bytes`. crc32c("123456789") == 0xE3069283.
std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc = 0) noexcept;

}  // namespace linkwatch::journal
