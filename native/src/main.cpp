// camhd-motion-native: the camera motion of one CamHD video (docs/NATIVE.md).
#include <cstdio>
#include <exception>

#include <opencv2/core.hpp>

extern "C" {
#include <libavutil/log.h>
}

#include "cli.hpp"
#include "errors.hpp"

namespace {

int fail(int code, const char* message) {
    std::fprintf(stderr, "camhd-motion-native: error: %s\n", message);
    return code;
}

}  // namespace

int main(int argc, char** argv) {
    av_log_set_level(AV_LOG_QUIET);  // errors are reported once, by us, on one line
    try {
        const camhd::Options options = camhd::parse_args(argc, argv);
        if (options.help) {
            std::fputs(camhd::usage_text().c_str(), stdout);
            return 0;
        }
        if (options.version) {
            std::fputs(camhd::version_text().c_str(), stdout);
            return 0;
        }
        return camhd::run(options);
    } catch (const camhd::UsageError& err) {
        return fail(2, err.what());
    } catch (const camhd::VideoError& err) {
        return fail(3, err.what());
    } catch (const cv::Exception& err) {
        return fail(1, ("OpenCV: " + err.msg).c_str());
    } catch (const std::exception& err) {
        return fail(1, err.what());
    }
}
