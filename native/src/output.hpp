// <stem>_optical_flow.json, version 1.1: the same document as
// camhd_motion.formats.optical_flow.motion_to_json (docs/FORMATS.md).
#pragma once

#include <string>

#include "analysis.hpp"

namespace camhd {

struct MovieRef {
    std::string url;        // archive-relative, leading "/"
    std::string cache_url;  // where the bytes were read from
};

std::string motion_json(const Analysis& analysis, const MovieRef& movie);

// The "performance" block alone, as one line of JSON.
std::string performance_json(const Performance& performance);

// Write atomically: a hidden temp file in the same directory, fsync, rename.
// Throws RuntimeError naming the path and the cause.
void write_text_atomic(const std::string& path, const std::string& text);

}  // namespace camhd
