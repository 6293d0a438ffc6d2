"""Risk cases: what the desk's risk staff must look at."""
