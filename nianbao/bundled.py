"""Files that ship inside the package: the seed reports and their gold, for ``corpus`` and ``bench``.

In the repository ``nianbao/samples`` links to the top-level ``samples/``; an installed
package carries the seeds, gold and specs (not the generated corpus) as package data.
"""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).parent / "samples"
SEEDS = SAMPLES / "seeds"
GOLD = SAMPLES / "gold"
