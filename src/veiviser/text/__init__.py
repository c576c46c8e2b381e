"""Text handling: normalisation, tokens, stemming, spelling, language, masking."""

from veiviser.text.normalize import calm_case, clean_message, fold, normalize
from veiviser.text.tokens import stem, tokenize

__all__ = ["calm_case", "clean_message", "fold", "normalize", "stem", "tokenize"]
