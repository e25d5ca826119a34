"""One module per revision; ``gateway db upgrade`` applies them in order."""
