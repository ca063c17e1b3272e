// How `linkwatch run` splits its QuickFIX sessions over worker processes.
//
// QuickFIX 1.15.1 waits with select(), so one process holds about 1,000 descriptors
// (DescriptorBudget). Beyond that the sessions go to several worker processes, each running
// its own acceptor/initiator. Sessions sharing a SocketAcceptPort stay in one process (QuickFIX
// binds the port), so the unit of placement is a port group; an initiator session is a group
// of its own.
#pragma once

#include <vector>

#include <linkwatch/config.hpp>
#include <linkwatch/session_event.hpp>

namespace linkwatch {

// The sessions one worker process runs, in the order of their global link indexes.
struct FixShard {
  std::vector<LinkIndex> links;
  std::vector<int> acceptPorts;  // the SocketAcceptPorts it binds, ascending
  int descriptors = 0;           // DescriptorBudget::total of these sessions in one process
};

// Port groups: acceptor sessions by SocketAcceptPort (ascending), then one group for each
// initiator session; link indexes ascending within a group.
std::vector<std::vector<LinkIndex>> fixPortGroups(const MonitorConfig& config);

// True when `run` puts the sessions in worker processes: FixWorkerMode=processes, or auto
// with FixWorkers set or with more sessions than one process's descriptor budget holds.
bool usesFixWorkers(const MonitorConfig& config);

// The shards of a configuration: at least FixWorkers of them (when there are enough port
// groups), as few as the descriptor budget allows otherwise, the largest groups placed first
// on the least loaded shard. Deterministic for a given configuration. Throws ConfigError when
// a port group alone is over the budget (loadConfig already refuses such files).
std::vector<FixShard> planFixShards(const MonitorConfig& config);

}  // namespace linkwatch
