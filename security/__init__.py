"""Security primitives: keys, encrypted payloads and columns, passwords, tokens, audit."""
