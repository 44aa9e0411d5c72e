"""Stage 3: chunks to the concept graph. Scan, vocabulary, occurrences, concepts, edges by kind, build."""
