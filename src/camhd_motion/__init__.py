"""CamHD motion analysis: camera motion and static sections of CamHD seafloor videos."""

__version__ = "0.1.0"
