// The command line: the same options as `camhd-motion motion`.
#pragma once

#include <string>
#include <vector>

#include "estimator.hpp"

namespace camhd {

struct Options {
    std::string video;      // as given (recorded as cacheURL)
    std::string path;       // the local path to open (file:// stripped)
    std::string output;     // default: <stem>_optical_flow.json
    std::string movie_url;  // default: from the name
    MotionParams params;
    int workers = 1;
    bool quiet = false;
    std::vector<int> dump_frames;  // diagnostics: --dump-frames N,N,... --dump-dir DIR
    std::string dump_dir;
    bool decode_only = false;  // benchmark: decode the needed frames, print timings, exit
    bool help = false;
    bool version = false;
};

// Throws UsageError with a one-line message.
Options parse_args(int argc, char** argv);
std::string usage_text();
std::string version_text();

// Runs the analysis and writes the output; returns the exit code.
int run(const Options& options);

}  // namespace camhd
