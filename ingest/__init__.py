"""Notes in: sources, decoding and repair, sections, chunks, concepts and edges."""
