"""The audit trail of an output folder: case history, inspectors' verdicts and link decisions, outcomes across runs (`audit.*`)."""
