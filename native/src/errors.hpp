// Errors that end the program with a one-line message (exit codes in cli.cpp).
#pragma once

#include <stdexcept>
#include <string>

namespace camhd {

// Bad command line: exit code 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A video that cannot be read or analysed (missing, not a movie, truncated, not ProRes):
// exit code 3.  what() is "VIDEO: cause".
struct VideoError : std::runtime_error {
    VideoError(const std::string& video, const std::string& cause)
        : std::runtime_error(video + ": " + cause), cause(cause) {}
    std::string cause;
};

// Anything else (the output cannot be written, ...): exit code 1.
struct RuntimeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// FFmpeg's text for one of its error codes.
std::string av_error(int code);

}  // namespace camhd
