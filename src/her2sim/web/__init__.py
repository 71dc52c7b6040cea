"""The web explorer: a local Dash app over the HER2 model, and its framework-free service."""
