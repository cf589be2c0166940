"""The local stack: the synthesized CloudFormation template, brought up on an embedded moto
server, with Lambda invocations routed to our own handlers in this process."""
