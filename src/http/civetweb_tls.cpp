#include "http/civetweb_tls.hpp"

#include <civetweb.h>
#include <dlfcn.h>
#include <link.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

namespace linkwatch {
namespace {

constexpr std::string_view kMissingFunction = "SSL_get_peer_certificate";
constexpr const char* kReplacement = "SSL_get1_peer_certificate";
// The library name civetweb passes to dlopen(): the same loaded object.
constexpr const char* kCivetwebLibssl = "libssl.so";
constexpr const char* kCivetwebLibrary = "libcivetweb.so.1";

struct Range {
  std::uintptr_t begin = 0;
  std::uintptr_t end = 0;
  bool contains(std::uintptr_t a) const { return a >= begin && a < end; }
};

// The loaded image that holds civetweb's code: its read-only and writable segments.
struct Image {
  std::uintptr_t probe = 0;  // an address inside civetweb's code
  bool found = false;
  std::vector<Range> readOnly;
  std::vector<Range> writable;
  Range relro;  // made read-only after relocation: never written
};

int findImage(dl_phdr_info* info, std::size_t, void* data) {
  Image& image = *static_cast<Image*>(data);
  bool holdsProbe = false;
  Image candidate;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    const Range r{info->dlpi_addr + ph.p_vaddr, info->dlpi_addr + ph.p_vaddr + ph.p_memsz};
    if (ph.p_type == PT_GNU_RELRO) candidate.relro = r;
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_R) == 0) continue;
    if (r.contains(image.probe)) holdsProbe = true;
    ((ph.p_flags & PF_W) != 0 ? candidate.writable : candidate.readOnly).push_back(r);
  }
  if (!holdsProbe) return 0;
  candidate.probe = image.probe;
  candidate.found = true;
  image = std::move(candidate);
  return 1;
}

// Addresses of the NUL-terminated string `s` standing alone (NUL before it) in `ranges`.
std::vector<std::uintptr_t> findStrings(const std::vector<Range>& ranges, std::string_view s) {
  std::vector<std::uintptr_t> found;
  for (const Range& r : ranges) {
    const char* begin = reinterpret_cast<const char*>(r.begin);
    const std::size_t size = r.end - r.begin;
    for (std::size_t at = 1; at + s.size() < size; ++at) {
      if (begin[at - 1] == '\0' && begin[at + s.size()] == '\0' &&
          std::memcmp(begin + at, s.data(), s.size()) == 0)
        found.push_back(r.begin + at);
    }
  }
  return found;
}

bool inAny(const std::vector<Range>& ranges, std::uintptr_t a) {
  for (const Range& r : ranges)
    if (r.contains(a)) return true;
  return false;
}

}  // namespace

void initCivetwebTlsLibrary() noexcept {
  static std::once_flag once;
  // The result is 0 with Debian's build (the missing function): see the header.
  std::call_once(once, [] { static_cast<void>(mg_init_library(MG_FEATURES_TLS)); });
}

std::string repairCivetwebTls() noexcept try {
  void* libssl = ::dlopen(kCivetwebLibssl, RTLD_LAZY | RTLD_NOLOAD);
  if (libssl == nullptr) return "civetweb has not loaded libssl.so (is libssl-dev installed?)";
  const bool exported = ::dlsym(libssl, kMissingFunction.data()) != nullptr;
  void* replacement = ::dlsym(libssl, kReplacement);
  ::dlclose(libssl);        // civetweb holds its own reference
  if (exported) return "";  // OpenSSL 1.1: civetweb found everything it uses
  if (replacement == nullptr)
    return "libssl.so exports neither SSL_get_peer_certificate nor SSL_get1_peer_certificate";

  // mg_start as defined in libcivetweb itself: in a non-PIE executable &mg_start would be the
  // executable's PLT stub. &mg_start when civetweb is linked in statically.
  Image image;
  image.probe = reinterpret_cast<std::uintptr_t>(&mg_start);
  if (void* civetweb = ::dlopen(kCivetwebLibrary, RTLD_LAZY | RTLD_NOLOAD)) {
    if (void* start = ::dlsym(civetweb, "mg_start"))
      image.probe = reinterpret_cast<std::uintptr_t>(start);
    ::dlclose(civetweb);
  }
  ::dl_iterate_phdr(&findImage, &image);
  if (!image.found) return "cannot find civetweb's loaded image";
  const std::vector<std::uintptr_t> names = findStrings(image.readOnly, kMissingFunction);
  if (names.empty()) return "";  // this civetweb does not use the old name

  // civetweb's table is an array of {const char* name; int required; void (*ptr)(void);}
  // ending with a NULL name: the entry after ours starts with a name in the same image.
  constexpr std::size_t kEntryWords = 3;
  std::uintptr_t* slot = nullptr;
  int matches = 0;
  for (const Range& r : image.writable) {
    const std::uintptr_t first = (r.begin + alignof(std::uintptr_t) - 1) &
                                 ~static_cast<std::uintptr_t>(alignof(std::uintptr_t) - 1);
    if (first >= r.end) continue;
    auto* words = reinterpret_cast<std::uintptr_t*>(first);
    const std::size_t count = (r.end - first) / sizeof(std::uintptr_t);
    for (std::size_t i = 0; i + kEntryWords < count; ++i) {
      if (std::find(names.begin(), names.end(), words[i]) == names.end()) continue;
      if (image.relro.contains(reinterpret_cast<std::uintptr_t>(&words[i]))) continue;
      const std::uintptr_t function = words[i + 2];
      const std::uintptr_t nextName = words[i + kEntryWords];
      const bool looksLikeTable =
          (nextName == 0 || inAny(image.readOnly, nextName)) &&
          (function == 0 || function == reinterpret_cast<std::uintptr_t>(replacement));
      if (!looksLikeTable) continue;
      slot = &words[i + 2];
      ++matches;
    }
  }
  if (matches != 1)
    return "cannot find civetweb's table of OpenSSL functions to add SSL_get_peer_certificate";
  // Other servers' workers may read the entry: a single aligned word, stored atomically.
  __atomic_store_n(slot, reinterpret_cast<std::uintptr_t>(replacement), __ATOMIC_RELEASE);
  return "";
} catch (...) {
  return "out of memory while repairing civetweb's TLS";
}

}  // namespace linkwatch
