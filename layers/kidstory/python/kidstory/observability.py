"""Logging for every function: one Powertools logger, JSON lines, the job id on each line."""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="kidstory")
