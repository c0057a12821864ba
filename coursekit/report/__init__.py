"""What a run shows: plots, text tables and looking at a classifier's mistakes."""
