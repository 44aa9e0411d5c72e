"""Stage 2: text to structure. The section tree with exact line ranges, then token-sized chunks."""
