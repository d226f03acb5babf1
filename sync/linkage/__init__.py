"""Customer matching as record linkage: normalised fields, agreement levels, Fellegi-Sunter
weights learnt by EM, OR-ed blocking keys and one-to-one links (issue 16). Pure: plain data
in, plain data out."""

from .matcher import NEAR, SURE, Decision, Matcher
from .model import Model
from .names import Vocabulary, normalize_company
from .records import Party

__all__ = [
    "NEAR",
    "SURE",
    "Decision",
    "Matcher",
    "Model",
    "Party",
    "Vocabulary",
    "normalize_company",
]
