"""The demo knowledge base of Demoforbundet, a fictional Norwegian union."""

from pathlib import Path

KB_PATH = Path(__file__).parent / "kb"
