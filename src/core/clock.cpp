#include <linkwatch/clock.hpp>

namespace linkwatch {

std::atomic<Nanos> gWallMinusMonotonic{wallNow() - monotonicNow()};

}  // namespace linkwatch
