#include "journal/directory_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace linkwatch::journal {

DirectoryLock::DirectoryLock(const std::string& directory) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec)
    throw JournalError("JournalPath " + directory +
                       ": cannot create the directory: " + ec.message());
  const std::string path = directory + "/LOCK";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw JournalError("JournalPath " + directory + ": cannot open " + path + ": " +
                       std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::array<char, 32> pid{};
    const ssize_t n = ::pread(fd_, pid.data(), pid.size() - 1, 0);
    std::string holder = n > 0 ? std::string(pid.data(), static_cast<std::size_t>(n)) : "";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      throw JournalError("JournalPath " + directory + " is in use by another linkwatch process" +
                         (holder.empty() ? std::string() : " (pid " + holder + ")") + " holding " +
                         path + ": one process owns a journal directory");
    throw JournalError("JournalPath " + directory + ": cannot lock " + path + ": " +
                       std::strerror(err));
  }
  // The pid is only for the message above; the lock itself is what counts.
  const std::string me = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] const ssize_t written = ::pwrite(fd_, me.data(), me.size(), 0);
  }
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace linkwatch::journal
