// CamHD file names -> the archive-relative movie URL (camhd_motion.archive.names).
#pragma once

#include <string>

namespace camhd {

// "/RS03ASHS/PN03B/06-CAMHDA301/YYYY/MM/DD/<stem>.mov" for a CamHD name
// (CAMHDA301-YYYYMMDDTHHMMSS[Z][_NN][.mov]), else "/" + the last path component.
std::string movie_url_for(const std::string& location);

// The name without directories and without ".mov" (any case).
std::string stem_of(const std::string& location);

}  // namespace camhd
