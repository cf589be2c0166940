"""Configuration: the settings of a process, the provider keys kept in SSM, and the model
registry. A leaf: it imports nothing of kidstory outside this package (an import-linter contract
in `make lint` keeps it so)."""
