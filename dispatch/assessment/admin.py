"""Admin pages of the assessment (filled in below)."""
