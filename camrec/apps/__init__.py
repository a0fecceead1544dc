"""The window apps: thin layers over the same runner and pipeline the CLI uses."""
