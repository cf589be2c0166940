"""The steps of the StoryWorkflow state machine: each function imports only its own step."""
