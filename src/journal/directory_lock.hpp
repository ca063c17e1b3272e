// One process owns a journal directory: an exclusive flock() on <dir>/LOCK, held for the
// life of the object. flock() locks belong to the open file description, so the lock is
// released by the kernel whatever way the process ends (kill -9 included), and a second
// open in the same process is refused as well.
#pragma once

#include <stdexcept>
#include <string>

namespace linkwatch::journal {

class JournalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class DirectoryLock {
 public:
  // Creates the directory if needed. Throws JournalError naming the directory and, when
  // another process holds the lock, its pid.
  explicit DirectoryLock(const std::string& directory);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace linkwatch::journal
