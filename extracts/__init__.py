"""Extract declarations and everything derived from them: reading, typing, validation."""
