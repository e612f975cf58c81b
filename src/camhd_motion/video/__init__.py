"""Reading frames of QuickTime/ProRes videos: the index, byte sources and the decoder."""
