"""gap-scraper tests: the fakes module sits next to this file (its name is unique in the repo)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
