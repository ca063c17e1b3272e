// The links every core benchmark monitors: N acceptor sessions EXCH->Mnnnnn, HeartBtInt 30 s.
#pragma once

#include <cstdio>
#include <string>

#include <linkwatch/config.hpp>

namespace linkwatch {

inline MonitorConfig makeBenchConfig(std::size_t links) {
  MonitorConfig config;
  config.file = "bench";
  config.links.reserve(links);
  char id[32];
  for (std::size_t i = 0; i < links; ++i) {
    std::snprintf(id, sizeof id, "M%05zu", i);
    LinkConfig lc;
    lc.memberId = id;
    lc.memberName = std::string("Member ") + id;
    lc.beginString = "FIX.4.4";
    lc.senderCompId = "EXCH";
    lc.targetCompId = id;
    lc.sessionKey = std::string("FIX.4.4:EXCH->") + id;
    lc.heartBtIntSeconds = 30;
    config.links.push_back(std::move(lc));
  }
  return config;
}

}  // namespace linkwatch
