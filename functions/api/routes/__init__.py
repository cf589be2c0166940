"""The API's routes, one router per part of the service a client uses."""
