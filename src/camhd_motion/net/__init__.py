"""Reading archive files over HTTP(S) and GCS: ranged streaming and robust downloads."""
