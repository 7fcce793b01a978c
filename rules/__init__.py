"""Package data: the carte-grise rule pack shipped with immat."""
