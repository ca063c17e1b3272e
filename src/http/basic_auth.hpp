// HTTP basic auth (RFC 7617) against the `http` users of the secrets file.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <linkwatch/secrets.hpp>

namespace linkwatch {

// The realm linkwatch names in WWW-Authenticate.
constexpr std::string_view kBasicAuthChallenge = "Basic realm=\"linkwatch\", charset=\"UTF-8\"";

// Standard base64 (with padding); nullopt when malformed or longer than 4 KiB decoded.
std::optional<std::string> decodeBase64(std::string_view text);

// True when `authorization` (the Authorization header, may be null) carries a user and
// password of `secrets`. Compared in constant time; nothing is logged.
bool basicAuthAccepts(const Secrets& secrets, const char* authorization);

}  // namespace linkwatch
