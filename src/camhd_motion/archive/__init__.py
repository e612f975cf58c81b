"""The archive: names, layout, and sources that list its videos."""
