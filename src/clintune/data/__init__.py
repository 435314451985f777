"""Clinical data: the Asclepius schema, the synthetic-note generator and patient-grouped splits."""
