// The managers' knobs, declared once in one table (the habit of mimalloc's options.c): which
// manager has which knob, its kind, default and meaning. `vmreplay managers` prints the table;
// `--manager=NAME:KNOB=VALUE,...` sets knobs, so two settings of one policy run side by side.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "proto/status.h"

namespace vmreplay::replay {

struct ManagerInfo {
  std::string_view name;
  std::string_view policy;  // what it does
  std::string_view trades;  // what it trades for what
};
// Every manager, built-in and `plugin`.
const std::vector<ManagerInfo>& Managers();

enum class KnobKind { kBytes, kChoice };
struct KnobInfo {
  std::string_view manager;
  std::string_view name;
  KnobKind kind = KnobKind::kBytes;
  std::string_view default_value;
  std::string_view choices;  // kChoice: "a|b|c"
  std::string_view help;
};
const std::vector<KnobInfo>& ManagerKnobs();

// "64G", "2M", "512K", "4096" (binary units, case-insensitive, optional "iB"/"B").
Status ParseBytes(std::string_view text, uint64_t* out);

// A parsed --manager value. (The old `--backend` names map onto a manager and a platform in
// engine/replay_cell.h.)
class ManagerSpec {
 public:
  // "arena", "arena:placement=best-fit,size=16G", "plugin:./libhost.so[,OPTIONS]". Error for an
  // unknown manager or knob, or a value of the wrong kind.
  static Status Parse(std::string_view text, ManagerSpec* out);

  const std::string& name() const { return name_; }
  // The name and the knobs given, in table order: the run's label.
  const std::string& label() const { return label_; }
  // A knob's value, the default when not given. REQUIRES: the knob is in the table for name().
  uint64_t Bytes(std::string_view knob) const;
  const std::string& Choice(std::string_view knob) const;
  // plugin: the shared library and the text after it, handed to the plugin as is.
  const std::string& plugin_path() const { return plugin_path_; }
  const std::string& plugin_options() const { return plugin_options_; }

 private:
  std::string name_;
  std::string label_;
  std::map<std::string, std::string, std::less<>> values_;
  std::string plugin_path_;
  std::string plugin_options_;
};

}  // namespace vmreplay::replay
