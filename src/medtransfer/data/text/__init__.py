"""Clinical text: reports and notes."""
