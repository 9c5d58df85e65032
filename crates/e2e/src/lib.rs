//! End-to-end tests of the whole backend live in `tests/`: this crate ships no code.
