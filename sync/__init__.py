"""The sync engine's pure core: mapping, validation and matching over plain records."""
