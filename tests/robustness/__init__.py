"""Issue 9: bad and hostile input (hypothesis, hostile XML) and security properties."""
