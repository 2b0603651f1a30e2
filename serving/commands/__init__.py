"""main.py commands of the serving layer."""
