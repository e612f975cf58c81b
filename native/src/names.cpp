#include "names.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

namespace camhd {
namespace {

std::string last_component(const std::string& location) {
    std::string s = location;
    while (!s.empty() && s.back() == '/') s.pop_back();
    const auto slash = s.rfind('/');
    return slash == std::string::npos ? s : s.substr(slash + 1);
}

bool valid_datetime(int y, int mo, int d, int h, int mi, int s) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= days[mo - 1] + (mo == 2 && leap ? 1 : 0);
}

}  // namespace

std::string stem_of(const std::string& location) {
    const std::string base = last_component(location);
    if (base.size() >= 4) {
        std::string ext = base.substr(base.size() - 4);
        std::transform(ext.begin(), ext.end(), ext.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (ext == ".mov") return base.substr(0, base.size() - 4);
    }
    return base;
}

std::string movie_url_for(const std::string& location) {
    static const std::regex name_re(R"(^(CAMHDA[0-9]{3})-([0-9]{8})T([0-9]{6})(Z?)(?:_([0-9]{2}))?$)");
    const std::string stem = stem_of(location);
    std::smatch m;
    if (std::regex_match(stem, m, name_re)) {
        const std::string date = m[2], time = m[3];
        const int y = std::stoi(date.substr(0, 4)), mo = std::stoi(date.substr(4, 2)),
                  d = std::stoi(date.substr(6, 2));
        if (valid_datetime(y, mo, d, std::stoi(time.substr(0, 2)), std::stoi(time.substr(2, 2)),
                           std::stoi(time.substr(4, 2))))
            return "/RS03ASHS/PN03B/06-CAMHDA301/" + date.substr(0, 4) + "/" +
                   date.substr(4, 2) + "/" + date.substr(6, 2) + "/" + stem + ".mov";
    }
    return "/" + last_component(location);
}

}  // namespace camhd
