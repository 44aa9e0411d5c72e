"""Embedders, the vector index, the lexical index and hybrid search."""
