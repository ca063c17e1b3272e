// Building a SessionEvent on the FIX thread: one clock read, nothing else.
#pragma once

#include <cstring>

#include <linkwatch/clock.hpp>
#include <linkwatch/session_event.hpp>

namespace linkwatch {

inline SessionEvent stampEvent(EventKind kind, LinkIndex link) noexcept {
  SessionEvent e;
  std::memset(&e, 0, sizeof e);
  e.monotonic = monotonicNow();
  e.wall = wallFromMonotonic(e.monotonic);
  e.kind = kind;
  e.link = link;
  e.messageClass = MessageClass::kApplication;
  return e;
}

}  // namespace linkwatch
