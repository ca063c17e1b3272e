#include <linkwatch/fix_worker_plan.hpp>

#include <algorithm>
#include <map>
#include <numeric>
#include <string>

namespace linkwatch {
namespace {

MonitorConfig subset(const MonitorConfig& config, const std::vector<LinkIndex>& links) {
  MonitorConfig part;
  part.links.reserve(links.size());
  for (LinkIndex i : links) part.links.push_back(config.links[i]);
  return part;
}

int descriptorsOf(const MonitorConfig& config, const std::vector<LinkIndex>& links) {
  return descriptorBudget(subset(config, links)).total;
}

}  // namespace

std::vector<std::vector<LinkIndex>> fixPortGroups(const MonitorConfig& config) {
  std::map<int, std::vector<LinkIndex>> byPort;
  std::vector<std::vector<LinkIndex>> groups;
  std::vector<std::vector<LinkIndex>> initiators;
  for (std::size_t i = 0; i < config.links.size(); ++i) {
    const LinkConfig& link = config.links[i];
    if (link.connectionType == ConnectionType::kAcceptor)
      byPort[link.socketPort].push_back(static_cast<LinkIndex>(i));
    else
      initiators.push_back({static_cast<LinkIndex>(i)});
  }
  for (auto& [port, links] : byPort) groups.push_back(std::move(links));
  for (auto& one : initiators) groups.push_back(std::move(one));
  return groups;
}

bool usesFixWorkers(const MonitorConfig& config) {
  switch (config.fixWorkerMode) {
    case FixWorkerMode::kInProcess:
      return false;
    case FixWorkerMode::kProcesses:
      return true;
    case FixWorkerMode::kAuto:
      return config.fixWorkers > 0 || !descriptorBudget(config).withinLimit();
  }
  return false;
}

std::vector<FixShard> planFixShards(const MonitorConfig& config) {
  struct Group {
    std::vector<LinkIndex> links;
    int descriptors;
  };
  std::vector<Group> groups;
  std::vector<ConfigIssue> issues;
  for (std::vector<LinkIndex>& links : fixPortGroups(config)) {
    const int d = descriptorsOf(config, links);
    if (d > DescriptorBudget::kLimit) {
      const LinkConfig& first = config.links[links.front()];
      issues.push_back(ConfigIssue{
          config.file, first.line, "SESSION", "SocketAcceptPort",
          std::to_string(links.size()) + " sessions share SocketAcceptPort " +
              std::to_string(first.socketPort) + " and need about " + std::to_string(d) +
              " descriptors in one QuickFIX process (budget " +
              std::to_string(DescriptorBudget::kLimit) + "): spread them over more ports"});
    }
    groups.push_back(Group{std::move(links), d});
  }
  if (!issues.empty()) throw ConfigError(std::move(issues));

  // Largest first onto the least loaded shard that still has room (the reserve counts once
  // per process, so a group's figure is an upper bound of what it adds).
  std::stable_sort(groups.begin(), groups.end(),
                   [](const Group& a, const Group& b) { return a.descriptors > b.descriptors; });
  const int reserve = DescriptorBudget::kProcessReserve;
  std::vector<std::vector<LinkIndex>> shards(
      static_cast<std::size_t>(std::max(config.fixWorkers, 1)));
  std::vector<int> load(shards.size(), reserve);
  for (const Group& g : groups) {
    const int adds = g.descriptors - reserve;
    std::size_t best = shards.size();
    for (std::size_t s = 0; s < shards.size(); ++s) {
      if (load[s] + adds > DescriptorBudget::kLimit) continue;
      if (best == shards.size() || load[s] < load[best]) best = s;
    }
    if (best == shards.size()) {
      shards.emplace_back();
      load.push_back(reserve);
      best = shards.size() - 1;
    }
    shards[best].insert(shards[best].end(), g.links.begin(), g.links.end());
    load[best] += adds;
  }

  std::vector<FixShard> out;
  for (std::vector<LinkIndex>& links : shards) {
    if (links.empty()) continue;
    std::sort(links.begin(), links.end());
    FixShard shard;
    for (LinkIndex i : links) {
      const LinkConfig& link = config.links[i];
      if (link.connectionType == ConnectionType::kAcceptor)
        shard.acceptPorts.push_back(link.socketPort);
    }
    std::sort(shard.acceptPorts.begin(), shard.acceptPorts.end());
    shard.acceptPorts.erase(std::unique(shard.acceptPorts.begin(), shard.acceptPorts.end()),
                            shard.acceptPorts.end());
    shard.descriptors = descriptorsOf(config, links);
    shard.links = std::move(links);
    out.push_back(std::move(shard));
  }
  return out;
}

}  // namespace linkwatch
