"""The concept graph and what is computed on it: lookup, neighbourhoods, study paths."""
