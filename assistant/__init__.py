"""LLM backends, prompts and cited, verified answers."""
