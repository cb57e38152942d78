// `vmreplay diff A.json B.json [--changed]`: two replay results (`vmreplay TRACE --json`) side
// by side with the relative change of every figure (replayer/report/replay_diff.h).
#include <iostream>

#include "replayer/cli/command.h"
#include "replayer/report/json_value.h"
#include "replayer/report/replay_diff.h"

namespace vmreplay::cli {

namespace po = boost::program_options;

int RunDiff(const std::vector<std::string>& args) {
  std::string a, b;
  bool changed = false;
  po::options_description desc("diff options");
  desc.add_options()("a", po::value(&a)->required(), "first result (A)")(
      "b", po::value(&b)->required(), "second result (B)")("changed", po::bool_switch(&changed),
                                                           "only figures that differ");
  po::positional_options_description pos;
  pos.add("a", 1).add("b", 1);
  po::variables_map vm;
  const int rc = ParseArgs(args, "vmreplay diff A.json B.json [--changed]", desc, pos, &vm);
  if (rc >= 0) return rc;
  json::Value da, db;
  for (auto [path, doc] : {std::pair{&a, &da}, std::pair{&b, &db}}) {
    Status s = json::ParseFile(*path, doc);
    if (s.ok()) s = replay::CheckReplaySchema(*doc, *path);
    if (!s.ok()) {
      PrintError(s.message());
      return kExitFailure;
    }
  }
  replay::WriteReplayDiff(da, db, a, b, changed, std::cout);
  return kExitOk;
}

}  // namespace vmreplay::cli
