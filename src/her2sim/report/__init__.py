"""What a person sees: the pathway diagram and a self-contained HTML report."""
