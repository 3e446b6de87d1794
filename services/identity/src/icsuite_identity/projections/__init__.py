"""Read models fed from topics: the replicated master data and its lookup documents."""
