"""The package's one compiled part: the partial ProRes decoder as an OPTIONAL extension.

Everything else is declared in pyproject.toml.  ``optional=True``: where no C++ compiler
(or no Python headers) exists, the build warns and the package installs without
``camhd_motion.video._prores``; the engine then decodes with FFmpeg and logs why
(video/partial.py, docs/PRORES.md).  The decoder is native/src/prores_partial.cpp, the same
file the native engine compiles.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "camhd_motion.video._prores",
            sources=["src/camhd_motion/video/_prores.cpp", "native/src/prores_partial.cpp"],
            include_dirs=["native/src"],
            language="c++",
            extra_compile_args=["-std=c++17", "-O2", "-fvisibility=hidden"],
            optional=True,
        )
    ]
)
