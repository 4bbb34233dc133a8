"""Clinical tables: labs, vitals, demographics."""
