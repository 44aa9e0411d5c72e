"""Stage 1: bytes to text. Encoding detection, ordinary mojibake (ftfy) and the lossy cp1252/cp1254 repair."""

from ingest.decode.charset import Decoded, DecodeError, decode_note

__all__ = ["Decoded", "DecodeError", "decode_note"]
