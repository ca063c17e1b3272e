// Throw-away certificates made with the openssl command at test time: certification
// authorities, and leaf certificates each signed by one of them. Every leaf names the
// loopback server (subjectAltName IP:127.0.0.1, DNS:localhost), so a client that verifies the
// host accepts it. Files in a directory of their own, removed at the end:
//   NAME.pem (certificate), NAME.key (private key), and for leaves NAME-with-key.pem (both,
//   as civetweb's ssl_certificate wants them).
// C++14, so that the QuickFIX adapter's tests can use it too.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace linkwatch {
namespace testing {

class TestCertificates {
 public:
  // RSA: QuickFIX 1.15.1 loads RSA and DSA certificates only. EC is quicker to generate.
  static constexpr const char* kRsa = "-newkey rsa:2048 -nodes";
  static constexpr const char* kEc = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

  // `leaves`: {name, name of the CA that signs it}.
  TestCertificates(const std::vector<std::string>& authorities,
                   const std::vector<std::pair<std::string, std::string>>& leaves,
                   const std::string& keyOptions = kRsa) {
    char pattern[] = "/tmp/linkwatch-certs-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    if (made == nullptr) return;
    dir_ = made;
    std::ostringstream script;
    script << "cd " << dir_ << " && set -e\n"
           << "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext\n"
           << "ca() { openssl req -x509 " << keyOptions << " -keyout $1.key -out $1.pem "
           << "-days 2 -subj /CN=$1; }\n"
           << "leaf() { openssl req " << keyOptions << " -keyout $1.key -out $1.csr -subj /CN=$1; "
           << "openssl x509 -req -in $1.csr -CA $2.pem -CAkey $2.key -CAcreateserial "
           << "-extfile san.ext -out $1.pem -days 2; cat $1.pem $1.key > $1-with-key.pem; }\n";
    for (const std::string& ca : authorities) script << "ca " << ca << "\n";
    for (const auto& leaf : leaves) script << "leaf " << leaf.first << " " << leaf.second << "\n";
    const std::string path = dir_ + "/make.sh";
    std::ofstream(path) << script.str();
    ok_ = std::system(("sh " + path + " >" + dir_ + "/make.log 2>&1").c_str()) == 0;
  }
  ~TestCertificates() {
    if (!dir_.empty()) std::system(("rm -rf " + dir_).c_str());
  }
  TestCertificates(const TestCertificates&) = delete;
  TestCertificates& operator=(const TestCertificates&) = delete;

  bool ok() const { return ok_; }
  std::string file(const std::string& name) const { return dir_ + "/" + name; }
  std::string dir() const { return dir_; }

 private:
  std::string dir_;
  bool ok_ = false;
};

}  // namespace testing
}  // namespace linkwatch
