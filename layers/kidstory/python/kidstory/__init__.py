"""Kids Story Agent: the shared package of every Lambda function, the local stack and the tests."""
