"""Read models fed from topics, written through the chassis projection writer."""
