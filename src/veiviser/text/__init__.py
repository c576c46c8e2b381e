"""Text handling: normalisation, tokens, stemming, spelling, language, masking."""

from veiviser.text.normalize import clean_message, fold, normalize
from veiviser.text.tokens import stem, tokenize

__all__ = ["clean_message", "fold", "normalize", "stem", "tokenize"]
