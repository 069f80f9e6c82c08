// A run folder's own files, and the rule for starting a new run in one: a folder that already
// holds a run is continued (--resume) or replaced (--overwrite), never overwritten in silence
// (re-running a command after Ctrl-C without --resume would otherwise lose the run).
#pragma once

#include <string>
#include <vector>

namespace rtseg::app {

// The files `rtseg train` writes (apps/lib/trainer.h) that `dir` holds, sorted; empty when the
// folder does not exist or holds none (other files do not count).
std::vector<std::string> run_files_in(const std::string& dir);

// Before a new run into `dir`: throws an Error naming what is there and the ways on
// (`continue_command`, --overwrite, another -o), unless `overwrite`, which removes those files.
void prepare_new_run_folder(const std::string& dir, bool overwrite,
                            const std::string& continue_command);

// Creates `dir` where needed and proves it writable (a probe file written and removed), so that a
// command fails before its work instead of after it. `what` names the flag or key in the error.
void require_writable_folder(const std::string& dir, const std::string& what);

// The command that continues a run: `rtseg train --config CONFIG [SETTINGS] -o DIR --resume`,
// each word quoted for the shell where it needs it.
std::string resume_command(const std::string& config, const std::vector<std::string>& settings,
                           const std::string& dir);

}  // namespace rtseg::app
