import sys

from camhd_motion.cli import main

sys.exit(main())
