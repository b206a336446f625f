"""Admission: applications, their review, the admission decision and its notice."""
