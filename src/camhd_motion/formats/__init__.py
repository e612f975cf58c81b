"""The output formats downstream readers depend on (``camhd.md``): contracts, versioned."""
