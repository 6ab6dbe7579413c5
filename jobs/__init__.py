"""Background work run by arq workers, and the CPU-bound helpers (password hashing) it shares
with the API."""
