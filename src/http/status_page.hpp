// The status wall served on `/`: one self-contained HTML page (no external assets) that
// polls /api/v1/links and /api/v1/events.
#pragma once

#include <string_view>

namespace linkwatch {

std::string_view statusPageHtml() noexcept;

}  // namespace linkwatch
