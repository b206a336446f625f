"""Every write of the attestation test: the bank, sittings and attempts (one module each)."""
