"""Motion estimation per sample pair and over a whole video."""
