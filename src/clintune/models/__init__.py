"""Models: short names, the offline fetch of the default model, the tiny test model, and the one loader."""
