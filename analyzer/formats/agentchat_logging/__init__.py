"""The AutoGen 0.4+ Python-logging family: records written by any text format string
(``text``: the ``agentchat-logging`` format) or a JSON formatter (``json_lines``:
``agentchat-json-logging``), both read by one record parser (``records``) that gives them
their meaning, with the AgentChat message shapes (``messages``) and the layouts a text
record is split by (``layouts``, ``format_strings``)."""

from .json_lines import AgentchatJsonLogging
from .text import AgentchatLogging

__all__ = ["AgentchatJsonLogging", "AgentchatLogging"]
