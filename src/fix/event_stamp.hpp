// Building a SessionEvent on the FIX thread: one clock read, nothing else.
#pragma once

#include <cstring>

#include <linkwatch/clock.hpp>
#include <linkwatch/session_event.hpp>

namespace linkwatch {

inline SessionEvent stampEventAt(EventKind kind, LinkIndex link, Nanos monotonic) noexcept {
  SessionEvent e;
  std::memset(&e, 0, sizeof e);
  e.monotonic = monotonic;
  e.wall = wallFromMonotonic(e.monotonic);
  e.kind = kind;
  e.link = link;
  e.messageClass = MessageClass::kApplication;
  return e;
}

inline SessionEvent stampEvent(EventKind kind, LinkIndex link) noexcept {
  return stampEventAt(kind, link, monotonicNow());
}

}  // namespace linkwatch
