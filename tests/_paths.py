"""Where the shared real data lives: `../shared/data` beside the checkout (as in CI)."""
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
if not SHARED.is_dir():  # a checkout somewhere else on this project's machines
    SHARED = Path("/work/shared/data")
