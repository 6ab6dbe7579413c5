"""Background work run by arq workers: import, export, e-mail and webhook delivery."""
