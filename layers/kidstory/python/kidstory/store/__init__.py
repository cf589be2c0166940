"""The DynamoDB table, one module per kind of item it holds (key design: docs/architecture.md)."""
