"""The attestation test: the question bank, sittings, attempts and the exam room."""
