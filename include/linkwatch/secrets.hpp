// The secrets file: FIX logon credentials (Username 553 / Password 554) per member and the
// users of the HTTP port's basic auth. Kept out of the main settings file so that the
// settings can be shared and versioned; linkwatch refuses a secrets file that its group or
// anyone else may read.
//
// Format, one entry a line, '#' starts a comment line:
//   fix  MEMBERID  USERNAME  PASSWORD     a member's Logon must carry 553=USERNAME, 554=PASSWORD
//   http USER  PASSWORD                   basic auth for /metrics and the API
// The password is the rest of the line after the fields before it (inner spaces kept).
//
// Nothing here ever prints a password: problems name the file, the line and the field.
// This header is included by the C++14 QuickFIX adapter: keep it C++14-clean.
#pragma once

#include <string>
#include <vector>

namespace linkwatch {

struct FixCredential {
  std::string memberId;
  std::string username;
  std::string password;
  int line = 0;
};

struct HttpUser {
  std::string user;
  std::string password;
  int line = 0;
};

// Compares in time that depends only on the lengths, not on where the first difference is.
bool constantTimeEquals(const std::string& a, const std::string& b) noexcept;

class Secrets {
 public:
  std::string file;
  std::vector<FixCredential> fix;
  std::vector<HttpUser> http;

  // nullptr when the member has no credential (its Logon carries none that is checked).
  const FixCredential* fixCredential(const std::string& memberId) const noexcept;
  bool hasHttpUsers() const noexcept { return !http.empty(); }
  // Every user is compared (constant time per user), so timing says nothing about which
  // user name exists.
  bool checkHttpUser(const std::string& user, const std::string& password) const noexcept;
};

struct SecretsProblem {
  int line = 0;  // 0: the file as a whole (permissions, cannot open)
  std::string message;
};

// Parses the text of a secrets file. Problems are appended (never with a password in them);
// the entries that parsed are returned.
Secrets parseSecrets(const std::string& text, const std::string& file,
                     std::vector<SecretsProblem>& problems);

// Opens, checks the permissions of (regular file, no group/other access) and parses a
// secrets file.
Secrets loadSecrets(const std::string& path, std::vector<SecretsProblem>& problems);

}  // namespace linkwatch
