#include "errors.hpp"

extern "C" {
#include <libavutil/error.h>
}

namespace camhd {

std::string av_error(int code) {
    char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(code, buf, sizeof buf);
    return buf;
}

}  // namespace camhd
